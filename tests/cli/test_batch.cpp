// [cli] batch work: many inputs, --outdir, --suffix, --format, -j, --shard, failures.
// [batch] scheduler-driven batches: --files-from, --shard auto, --skip-existing,
// --relative-to, --log, exit statuses, and the README's GNU parallel and sbatch recipes.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "cli/filtering_fixtures.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> make_inputs(const std::string& dir, int n) {
  std::vector<std::string> files;
  for (int i = 0; i < n; ++i) {
    cv::Mat m(20 + i, 30, CV_8UC3);
    cv::theRNG().state = static_cast<std::uint64_t>(100 + i);
    cv::randu(m, 0, 256);
    std::string f = dir + "/img" + std::to_string(i) + ".png";
    REQUIRE(cv::imwrite(f, m));
    files.push_back(f);
  }
  return files;
}

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> s;
  if (!fs::exists(dir)) return s;
  for (const auto& e : fs::directory_iterator(dir)) s.insert(e.path().filename().string());
  return s;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("[cli] a batch with a corrupt file processes the others and exits 3 (some failed)") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 3);
  std::string bad = dir + "/broken.png";
  std::string good = read_file(files[0]);
  write_file(bad, good.substr(0, good.size() / 2));  // truncated PNG
  std::string missing = dir + "/missing.png";
  files.insert(files.begin() + 1, bad);
  files.push_back(missing);
  for (std::string cmd : {"blur", "edge"}) {
    CAPTURE(cmd);
    std::string out = dir + "/out-" + cmd;
    auto r = run_convkit(concat({cmd, "--outdir", out}, files));
    CHECK(r.status == 3);  // some inputs failed
    CHECK(listing(out) == std::set<std::string>{"img0.png", "img1.png", "img2.png"});
    // one line per failed file naming it, then the summary
    CHECK(r.err.find("convkit: error: ") != std::string::npos);
    CHECK(r.err.find("broken.png") != std::string::npos);
    CHECK(r.err.find("missing.png") != std::string::npos);
    CHECK(r.err.find("convkit: 2 of 5 inputs failed") != std::string::npos);
    auto q = run_convkit(concat({cmd, "--quiet", "--outdir", out}, files));
    CHECK(q.status == 3);
    CHECK(q.err.find("[1/5]") == std::string::npos);  // no progress lines
    CHECK(q.err.find("broken.png") != std::string::npos);
  }
}

TEST_CASE("[cli] plain progress lines when stderr is not a terminal, none with --quiet") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 2);
  auto r = run_convkit(concat({"blur", "--outdir", dir + "/o"}, files));
  REQUIRE(r.status == 0);
  CHECK(r.err.find("[1/2]") != std::string::npos);
  CHECK(r.err.find("[2/2]") != std::string::npos);
  CHECK(r.err.find('\r') == std::string::npos);
  auto q = run_convkit(concat({"blur", "-q", "--outdir", dir + "/q"}, files));
  REQUIRE(q.status == 0);
  CHECK(q.err.empty());
}

TEST_CASE("[cli] --outdir keeps base names; --suffix and --format change them") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 2);
  auto r = run_convkit(concat(
      {"edge", "-q", "--outdir", dir + "/o", "--suffix", "-edges", "--format", "npy"}, files));
  REQUIRE(r.status == 0);
  CHECK(listing(dir + "/o") == std::set<std::string>{"img0-edges.npy", "img1-edges.npy"});
  REQUIRE(run_convkit(concat({"blur", "-q", "--outdir", dir + "/j", "--format", "jpg"}, files))
              .status == 0);
  CHECK(listing(dir + "/j") == std::set<std::string>{"img0.jpg", "img1.jpg"});
  cv::Mat j = cv::imread(dir + "/j/img1.jpg");
  CHECK(j.rows == 21);
  // two inputs with the same base name would collide
  fs::create_directories(dir + "/sub");
  fs::copy_file(files[0], dir + "/sub/img0.png");
  auto c = run_convkit({"blur", files[0], dir + "/sub/img0.png", "--outdir", dir + "/c"});
  CHECK(c.status == 2);
  CHECK(c.err.find("img0.png") != std::string::npos);
}

TEST_CASE("[cli] --shard K/N splits the inputs: every file exactly once") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 7);
  std::multiset<std::string> all;
  for (int k = 1; k <= 3; ++k) {
    std::string out = dir + "/s" + std::to_string(k);
    auto r = run_convkit(
        concat({"blur", "-q", "--outdir", out, "--shard", std::to_string(k) + "/3"}, files));
    REQUIRE(r.status == 0);
    auto got = listing(out);
    CHECK(got.size() == (k == 1 ? 3u : 2u));
    all.insert(got.begin(), got.end());
  }
  std::multiset<std::string> want;
  for (int i = 0; i < 7; ++i) want.insert("img" + std::to_string(i) + ".png");
  CHECK(all == want);
}

TEST_CASE("[cli] -j N gives the same files as -j 1") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 5);
  REQUIRE(run_convkit(concat({"edge", "-q", "-j", "1", "--outdir", dir + "/a"}, files)).status ==
          0);
  REQUIRE(run_convkit(
              concat({"edge", "-q", "-j", "3", "--threads", "2", "--outdir", dir + "/b"}, files))
              .status == 0);
  auto names = listing(dir + "/a");
  REQUIRE(names.size() == 5);
  CHECK(listing(dir + "/b") == names);
  for (const auto& n : names) CHECK(read_file(dir + "/a/" + n) == read_file(dir + "/b/" + n));
}

TEST_CASE("[cli] a failing single file leaves no output and no temporary file") {
  auto dir = temp_dir();
  write_file(dir + "/junk.png", "this is not a PNG at all");
  auto r = run_convkit({"blur", dir + "/junk.png", "-o", dir + "/out.png"});
  CHECK(r.status == 1);
  CHECK(r.err.rfind("convkit: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(listing(dir) == std::set<std::string>{"junk.png"});
  // a float image written to PNG without a policy is refused, nothing written
  write_file(dir + "/f.npy", npy_bytes(cv::Mat(4, 4, CV_32F, cv::Scalar(1000.0))));
  auto f = run_convkit({"blur", dir + "/f.npy", "-o", dir + "/f.png"});
  CHECK(f.status == 1);
  CHECK(!fs::exists(dir + "/f.png"));
  CHECK(run_convkit({"blur", dir + "/f.npy", "--clip", "-o", dir + "/f.png"}).status == 0);
}

TEST_CASE("[cli] -o may name the input: it is replaced whole") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 1);
  cv::Mat before = cv::imread(files[0], cv::IMREAD_UNCHANGED);
  REQUIRE(run_convkit({"blur", files[0], "--type", "box", "-o", files[0]}).status == 0);
  cv::Mat after = cv::imread(files[0], cv::IMREAD_UNCHANGED);
  REQUIRE(after.size() == before.size());
  CHECK(max_diff(after, before) > 0);
  CHECK(listing(dir) == std::set<std::string>{"img0.png"});
}

namespace {

// A small PNG (encoded by OpenCV) with pixels from `seed`.
std::string png_bytes(int seed, int rows = 24, int cols = 32) {
  cv::Mat m(rows, cols, CV_8UC3);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(m, 0, 256);
  std::vector<uchar> buf;
  REQUIRE(cv::imencode(".png", m, buf));
  return std::string(buf.begin(), buf.end());
}

// A tree of images under dir/in: in/top.png, in/a/x.png, in/a/b/y.png,
// in/c/x.png (a second x.png), ...; returns the paths relative to dir.
std::vector<std::string> make_tree(const std::string& dir, int n) {
  static const char* subdirs[] = {"", "a/", "a/b/", "c/"};
  std::vector<std::string> rel;
  for (int i = 0; i < n; ++i) {
    std::string sub = std::string("in/") + subdirs[i % 4];
    fs::create_directories(dir + "/" + sub);
    std::string name = sub + "x" + std::to_string(i / 4) + ".png";
    write_file(dir + "/" + name, png_bytes(200 + i));
    rel.push_back(name);
  }
  return rel;
}

// Every regular file below `dir`: relative path -> content.
std::map<std::string, std::string> tree(const std::string& dir) {
  std::map<std::string, std::string> t;
  if (!fs::exists(dir)) return t;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) t[fs::relative(e.path(), dir).string()] = read_file(e.path().string());
  return t;
}

// Decodes the JSON string at s[i] (a quote); \udcXX (a lone surrogate) is byte XX.
std::string json_text(const std::string& s, std::size_t& i) {
  REQUIRE(s.at(i) == '"');
  ++i;
  std::string out;
  while (s.at(i) != '"') {
    char c = s[i++];
    REQUIRE(static_cast<unsigned char>(c) >= 0x20);  // raw control characters are not JSON
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = s.at(i++);
    if (e == 'n')
      out += '\n';
    else if (e == 't')
      out += '\t';
    else if (e == 'r')
      out += '\r';
    else if (e == 'b')
      out += '\b';
    else if (e == 'f')
      out += '\f';
    else if (e == '"' || e == '\\' || e == '/')
      out += e;
    else {
      REQUIRE(e == 'u');
      unsigned v = static_cast<unsigned>(std::stoul(s.substr(i, 4), nullptr, 16));
      i += 4;
      if (v >= 0xDC80 && v <= 0xDCFF) {
        out += static_cast<char>(v & 0xFF);
      } else if (v < 0x80) {
        out += static_cast<char>(v);
      } else if (v < 0x800) {
        out += static_cast<char>(0xC0 | (v >> 6));
        out += static_cast<char>(0x80 | (v & 0x3F));
      } else {
        out += static_cast<char>(0xE0 | (v >> 12));
        out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (v & 0x3F));
      }
    }
  }
  ++i;
  return out;
}

// One flat JSON object: strings decoded, numbers and null as written.
std::map<std::string, std::string> json_object(const std::string& line) {
  std::map<std::string, std::string> m;
  std::size_t i = 0;
  REQUIRE(line.at(i++) == '{');
  while (line.at(i) != '}') {
    std::string key = json_text(line, i);
    REQUIRE(line.at(i++) == ':');
    if (line.at(i) == '"') {
      m[key] = json_text(line, i);
    } else {
      std::size_t end = line.find_first_of(",}", i);
      m[key] = line.substr(i, end - i);
      i = end;
    }
    if (line.at(i) == ',') ++i;
  }
  REQUIRE(i + 1 == line.size());
  return m;
}

std::vector<std::map<std::string, std::string>> read_log(const std::string& path) {
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) rows.push_back(json_object(line));
  return rows;
}

// The fenced block after "<!-- recipe: NAME -->" in the README.
std::string readme_recipe(const std::string& name) {
  std::string readme = read_file(source_path("README.md"));
  auto at = readme.find("<!-- recipe: " + name + " -->");
  REQUIRE(at != std::string::npos);
  auto open = readme.find("```", at);
  auto start = readme.find('\n', open) + 1;
  auto close = readme.find("\n```", start);
  REQUIRE(close != std::string::npos);
  return readme.substr(start, close - start + 1);
}

// Run a bash script in `dir` with convkit on the PATH; `env` is prefixed
// ("A=1 B=2 "). Returns the exit status.
int run_script(const std::string& dir, const std::string& script, const std::string& env = "") {
  write_file(dir + "/script.sh", script);
  std::string bin = fs::path(CONVKIT_BINARY).parent_path().string();
  std::string cmd = "cd '" + dir + "' && " + env + "PATH='" + bin +
                    "':\"$PATH\" bash ./script.sh >script.out 2>script.err";
  int st = std::system(cmd.c_str());
  if (st != 0) {
    MESSAGE("script:\n" << script << "stderr:\n" << read_file(dir + "/script.err"));
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

// Set environment variables for one scope (the child processes inherit them).
struct EnvScope {
  std::vector<std::string> names;
  void set(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    names.push_back(name);
  }
  ~EnvScope() {
    for (const auto& n : names) unsetenv(n.c_str());
  }
};

}  // namespace

TEST_CASE("[batch] the README's GNU parallel recipe processes every input exactly once") {
  REQUIRE(std::system("parallel --version >/dev/null 2>&1") == 0);  // scripts/install-deps.sh
  auto dir = temp_dir();
  auto inputs = make_tree(dir, 11);
  const std::string script = readme_recipe("list") + readme_recipe("parallel");
  REQUIRE(run_script(dir, script) == 0);
  // One shared log, appended by 4 shards: every line whole, every input once.
  auto rows = read_log(dir + "/results.jsonl");
  std::multiset<std::string> logged;
  for (auto& r : rows) {
    CHECK(r["status"] == "ok");
    logged.insert(r["input"]);
  }
  CHECK(logged == std::multiset<std::string>(inputs.begin(), inputs.end()));
  // The tree is mirrored: in/a/b/x0.png -> out/a/b/x0.png, both x*.png kept.
  auto out = tree(dir + "/out");
  CHECK(out.size() == inputs.size());
  for (const auto& in : inputs) CHECK(out.count(in.substr(3)) == 1);
  // The same outputs as one plain run.
  REQUIRE(run_convkit({"blur", "--sigma", "2", "-q", "--files-from", "list", "-0", "--outdir",
                       "clean/", "--relative-to", "in/"},
                      "", dir)
              .status == 0);
  CHECK(tree(dir + "/clean") == out);
  // --resume-failed: every job succeeded, so a rerun starts none.
  const std::string joblog = read_file(dir + "/jobs.log");
  CHECK(std::count(joblog.begin(), joblog.end(), '\n') == 5);  // header + 4 shards
  REQUIRE(run_script(dir, script) == 0);
  CHECK(read_log(dir + "/results.jsonl").size() == rows.size());
}

TEST_CASE("[batch] the README's sbatch script with --shard auto covers the list, 0- or 1-based") {
  auto dir = temp_dir();
  auto inputs = make_tree(dir, 10);
  REQUIRE(run_script(dir, readme_recipe("list")) == 0);
  const std::string job = readme_recipe("sbatch");
  REQUIRE(job.find("--shard auto") != std::string::npos);
  for (int first : {0, 1}) {
    CAPTURE(first);
    fs::remove_all(dir + "/out");
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".jsonl") fs::remove(e.path());
    const int tasks = 4;  // as sbatch --array=FIRST-(FIRST+3) sets them
    for (int id = first; id < first + tasks; ++id) {
      std::string env = "SLURM_ARRAY_TASK_ID=" + std::to_string(id) +
                        " SLURM_ARRAY_TASK_MIN=" + std::to_string(first) +
                        " SLURM_ARRAY_TASK_MAX=" + std::to_string(first + tasks - 1) +
                        " SLURM_ARRAY_TASK_COUNT=" + std::to_string(tasks) + " ";
      REQUIRE(run_script(dir, job, env) == 0);
    }
    std::multiset<std::string> logged;
    int logs = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() != ".jsonl") continue;
      ++logs;
      for (auto& r : read_log(e.path().string())) logged.insert(r["input"]);
    }
    CHECK(logs == tasks);
    CHECK(logged == std::multiset<std::string>(inputs.begin(), inputs.end()));
    CHECK(tree(dir + "/out").size() == inputs.size());
  }
}

TEST_CASE("[batch] --shard auto equals --shard K/N for 0-based, 1-based and stepped arrays") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 7);
  auto shard_outputs = [&](const std::vector<std::string>& shard, const std::string& out) {
    auto r = run_convkit(concat({"edge", "-q", "--outdir", out}, concat(shard, files)));
    REQUIRE(r.status == 0);
    return listing(out);
  };
  struct Array {
    int min, step;
  };
  for (Array a : {Array{0, 1}, Array{1, 1}, Array{0, 4}, Array{5, 2}}) {
    CAPTURE(a.min);
    CAPTURE(a.step);
    for (int k = 1; k <= 3; ++k) {
      EnvScope env;
      env.set("SLURM_ARRAY_TASK_ID", std::to_string(a.min + (k - 1) * a.step));
      env.set("SLURM_ARRAY_TASK_MIN", std::to_string(a.min));
      env.set("SLURM_ARRAY_TASK_MAX", std::to_string(a.min + 2 * a.step));
      env.set("SLURM_ARRAY_TASK_COUNT", "3");
      if (a.step != 1) env.set("SLURM_ARRAY_TASK_STEP", std::to_string(a.step));
      std::string tag =
          std::to_string(a.min) + "-" + std::to_string(a.step) + "-" + std::to_string(k);
      auto got = shard_outputs({"--shard", "auto"}, dir + "/auto" + tag);
      CHECK(!got.empty());
      CHECK(got == shard_outputs({"--shard", std::to_string(k) + "/3"}, dir + "/k" + tag));
    }
  }
  // Missing variables: a usage error naming the first one missing.
  auto none = run_convkit(concat({"blur", "--outdir", dir + "/n", "--shard", "auto"}, files));
  CHECK(none.status == 2);
  CHECK(none.err.find("SLURM_ARRAY_TASK_ID") != std::string::npos);
  CHECK(!fs::exists(dir + "/n"));
  {
    // --array=1,5,9 is not one evenly spaced run with step 1: refused, not guessed.
    EnvScope env;
    env.set("SLURM_ARRAY_TASK_ID", "5");
    env.set("SLURM_ARRAY_TASK_MIN", "1");
    env.set("SLURM_ARRAY_TASK_MAX", "9");
    env.set("SLURM_ARRAY_TASK_COUNT", "3");
    env.set("SLURM_ARRAY_TASK_STEP", "1");
    auto r = run_convkit(concat({"blur", "--outdir", dir + "/u", "--shard", "auto"}, files));
    CHECK(r.status == 2);
    CHECK(r.err.find("evenly spaced") != std::string::npos);
    env.set("SLURM_ARRAY_TASK_MIN", "x");
    auto bad = run_convkit(concat({"blur", "--outdir", dir + "/u", "--shard", "auto"}, files));
    CHECK(bad.status == 2);
    CHECK(bad.err.find("SLURM_ARRAY_TASK_MIN='x'") != std::string::npos);
  }
}

TEST_CASE("[batch] a run killed midway, rerun with --skip-existing, equals a clean run") {
  auto dir = temp_dir();
  auto inputs = make_tree(dir, 7);
  // The 4th input is a FIFO: the run blocks opening it after 3 outputs, and
  // is killed there with SIGKILL (no timing involved).
  const std::string fifo = "in/c/slow.png";
  REQUIRE(mkfifo((dir + "/" + fifo).c_str(), 0600) == 0);
  inputs.insert(inputs.begin() + 3, fifo);
  std::string list;
  for (const auto& in : inputs) list += in + "\n";
  write_file(dir + "/list.txt", list);
  const std::vector<std::string> args = {"blur",          "--sigma",  "1.5",      "-q",
                                         "--files-from",  "list.txt", "--outdir", "out",
                                         "--relative-to", "in",       "--log",    "log.jsonl"};
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(127);
    std::vector<std::string> a = args;
    a.insert(a.begin(), CONVKIT_BINARY);
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::size_t lines = 0;
  for (int wait = 0; wait < 6000 && lines < 3; ++wait) {  // up to 10 minutes on a busy machine
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (fs::exists(dir + "/log.jsonl")) lines = read_log(dir + "/log.jsonl").size();
  }
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  REQUIRE(WIFSIGNALED(st));
  REQUIRE(lines == 3);
  CHECK(tree(dir + "/out").size() == 3);  // killed before the rest
  // Replace the FIFO by an image, rerun: only the missing work is done.
  fs::remove(dir + "/" + fifo);
  write_file(dir + "/" + fifo, png_bytes(99));
  auto rerun = concat(args, {"--skip-existing"});
  REQUIRE(run_convkit(rerun, "", dir).status == 0);
  auto rows = read_log(dir + "/log.jsonl");
  REQUIRE(rows.size() == 3 + inputs.size());
  std::multiset<std::string> statuses;
  for (std::size_t i = 3; i < rows.size(); ++i) statuses.insert(rows[i]["status"]);
  CHECK(statuses.count("skipped") == 3);
  CHECK(statuses.count("ok") == inputs.size() - 3);
  auto clean = args;
  clean[7] = "clean";
  REQUIRE(run_convkit(clean, "", dir).status == 0);
  auto out = tree(dir + "/out");
  CHECK(out.size() == inputs.size());
  CHECK(out == tree(dir + "/clean"));
}

TEST_CASE("[batch] --skip-existing keeps an existing output, without it the output is redone") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 2);
  fs::create_directories(dir + "/o");
  write_file(dir + "/o/img0.png", "kept");
  auto r = run_convkit(concat({"blur", "--skip-existing", "--outdir", dir + "/o"}, files));
  REQUIRE(r.status == 0);
  CHECK(read_file(dir + "/o/img0.png") == "kept");
  CHECK(r.err.find("exists, skipped") != std::string::npos);
  CHECK(cv::imread(dir + "/o/img1.png").rows == 21);
  REQUIRE(run_convkit(concat({"blur", "-q", "--outdir", dir + "/o"}, files)).status == 0);
  CHECK(cv::imread(dir + "/o/img0.png").rows == 20);
}

TEST_CASE("[batch] --files-from reads lines, NUL-separated lists and standard input") {
  auto dir = temp_dir();
  fs::create_directories(dir + "/in");
  const std::vector<std::string> names = {"in/plain.png", "in/with space.png", "in/new\nline.png"};
  for (std::size_t i = 0; i < names.size(); ++i)
    write_file(dir + "/" + names[i], png_bytes(static_cast<int>(i)));
  auto outputs = [&](const std::string& out) {
    std::set<std::string> s;
    for (auto& [k, v] : tree(dir + "/" + out)) s.insert(k);
    return s;
  };
  // -0: any byte but NUL in a name, even a newline.
  write_file(dir + "/list0", names[0] + '\0' + names[1] + '\0' + names[2] + '\0');
  auto z = run_convkit({"edge", "-q", "--files-from", "list0", "-0", "--outdir", "z"}, "", dir);
  CHECK(z.status == 0);
  CHECK(outputs("z") == std::set<std::string>{"plain.png", "with space.png", "new\nline.png"});
  // Lines: blank lines skipped, CRLF accepted; a missing file or a file that
  // is no image fails alone.
  write_file(dir + "/in/notes.txt", "notes");
  write_file(dir + "/list",
             "\n" + names[0] + "\r\n\n" + names[1] + "\nin/missing.png\nin/notes.txt\n");
  auto l = run_convkit({"edge", "-q", "--files-from", "list", "--outdir", "l"}, "", dir);
  CHECK(l.status == 3);
  CHECK(l.err.find("in/missing.png") != std::string::npos);
  CHECK(l.err.find("in/notes.txt: cannot name its output") != std::string::npos);
  CHECK(l.err.find("convkit: 2 of 4 inputs failed") != std::string::npos);
  CHECK(outputs("l") == std::set<std::string>{"plain.png", "with space.png"});
  // '-' is standard input; command-line inputs come first.
  auto s = run_convkit({"blur", "-q", "--files-from", "-", "--outdir", "s", names[2]},
                       names[0] + "\n", dir);
  CHECK(s.status == 0);
  CHECK(outputs("s") == std::set<std::string>{"plain.png", "new\nline.png"});
  // Malformed lists are usage errors, before any output.
  auto nul = run_convkit({"blur", "--files-from", "list0", "--outdir", "x"}, "", dir);
  CHECK(nul.status == 2);
  CHECK(nul.err.find("line 1 contains a NUL byte") != std::string::npos);
  auto lines0 = run_convkit({"blur", "--files-from", "list", "-0", "--outdir", "x"}, "", dir);
  CHECK(lines0.status == 2);
  CHECK(lines0.err.find("no NUL separators") != std::string::npos);
  write_file(dir + "/long", std::string(5000, 'a') + "\n");
  auto lng = run_convkit({"blur", "--files-from", "long", "--outdir", "x"}, "", dir);
  CHECK(lng.status == 2);
  CHECK(lng.err.find("longer than 4096 bytes") != std::string::npos);
  write_file(dir + "/empty", "\n\n");
  CHECK(run_convkit({"blur", "--files-from", "empty", "--outdir", "x"}, "", dir).status == 2);
  auto absent = run_convkit({"blur", "--files-from", "nolist", "--outdir", "x"}, "", dir);
  CHECK(absent.status == 2);
  CHECK(absent.err.find("nolist") != std::string::npos);
  CHECK(!fs::exists(dir + "/x"));
}

TEST_CASE("[batch] --relative-to mirrors the input tree; an input outside it fails alone") {
  auto dir = temp_dir();
  auto inputs = make_tree(dir, 8);  // in/x0.png, in/a/x0.png, in/a/b/x0.png, in/c/x0.png, ...
  fs::create_directories(dir + "/other");
  write_file(dir + "/other/x9.png", png_bytes(9));
  auto args = concat({"blur", "-q", "--outdir", "out/", "--relative-to", "in/", "--format", "bmp",
                      "--suffix", "-s", "other/x9.png", "in/../other/x9.png"},
                     inputs);
  auto r = run_convkit(args, "", dir);
  CHECK(r.status == 3);
  CHECK(r.err.find("other/x9.png: not below --relative-to in/") != std::string::npos);
  CHECK(r.err.find("2 of 10 inputs failed") != std::string::npos);
  std::set<std::string> want, got;
  for (const auto& in : inputs)
    want.insert(fs::path(in.substr(3)).replace_extension().string() + "-s.bmp");
  for (auto& [k, v] : tree(dir + "/out")) got.insert(k);
  CHECK(got == want);
  // An absolute DIR and absolute inputs mirror the same way.
  auto a = run_convkit({"edge", "-q", "--outdir", dir + "/abs", "--relative-to", dir + "/in",
                        dir + "/in/a/b/x0.png"});
  CHECK(a.status == 0);
  CHECK(fs::exists(dir + "/abs/a/b/x0.png"));
  // Without --relative-to the same base names are refused up front, even when
  // the two inputs fall in different shards.
  auto c =
      run_convkit({"blur", "--outdir", "flat", "--shard", "1/2", inputs[0], inputs[3]}, "", dir);
  CHECK(c.status == 2);
  CHECK(c.err.find("--relative-to") != std::string::npos);
  CHECK(!fs::exists(dir + "/flat"));
  CHECK(run_convkit({"blur", "--relative-to", "in", "-o", "o.png", inputs[0]}, "", dir).status ==
        2);
}

TEST_CASE("[batch] --log writes one JSON line per input, any bytes in a path escaped") {
  auto dir = temp_dir();
  // A tab, a quote, a backslash, a control byte, valid UTF-8 and invalid bytes.
  const std::vector<std::string> names = {"t\tq\"b\\c\x01.png", "caf\xc3\xa9.png",
                                          "bad\xff\xc3(.png", "ok.png"};
  std::vector<std::string> files;
  for (std::size_t i = 0; i < names.size(); ++i) {
    files.push_back(dir + "/" + names[i]);
    write_file(files.back(), png_bytes(static_cast<int>(i)));
  }
  files.push_back(dir + "/broken\x7f.png");
  write_file(files.back(), "not a png");
  auto r =
      run_convkit(concat({"blur", "-q", "--outdir", dir + "/o", "--log", dir + "/l.jsonl"}, files));
  CHECK(r.status == 3);
  const std::string raw = read_file(dir + "/l.jsonl");
  CHECK(raw.find("t\\tq\\\"b\\\\c\\u0001.png") != std::string::npos);
  CHECK(raw.find("caf\xc3\xa9.png") != std::string::npos);  // valid UTF-8 kept as is
  CHECK(raw.find("bad\\udcff\\udcc3(.png") != std::string::npos);
  auto rows = read_log(dir + "/l.jsonl");
  REQUIRE(rows.size() == files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto& row = rows[i];  // -j 1 logs in list order
    CAPTURE(i);
    CHECK(row["input"] == files[i]);  // decodes back to the exact bytes
    CHECK(std::stod(row["ms"]) >= 0);
    if (i < names.size()) {
      CHECK(row["status"] == "ok");
      CHECK(row["error"] == "null");
      CHECK(row["output"] == dir + "/o/" + names[i]);
      CHECK(std::stoll(row["bytes"]) == static_cast<long long>(fs::file_size(row["output"])));
    } else {
      CHECK(row["status"] == "failed");
      CHECK(row["error"].find(files[i]) != std::string::npos);
      CHECK(row["bytes"] == "null");
    }
  }
  // A second run appends: skipped inputs report the existing output's size.
  REQUIRE(run_convkit({"blur", "-q", "--skip-existing", "--outdir", dir + "/o", "--log",
                       dir + "/l.jsonl", files[3]})
              .status == 0);
  rows = read_log(dir + "/l.jsonl");
  REQUIRE(rows.size() == files.size() + 1);
  CHECK(rows.back()["status"] == "skipped");
  CHECK(std::stoll(rows.back()["bytes"]) ==
        static_cast<long long>(fs::file_size(dir + "/o/ok.png")));
}

TEST_CASE("[batch] exit status 1 when every input failed, 3 when some did, 0 when none") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 1);
  write_file(dir + "/bad.png", "junk");
  auto all = run_convkit({"edge", "--outdir", dir + "/a", dir + "/bad.png", dir + "/gone.png"});
  CHECK(all.status == 1);
  CHECK(all.err.find("convkit: 2 of 2 inputs failed") != std::string::npos);
  auto some = run_convkit({"edge", "--outdir", dir + "/s", dir + "/bad.png", files[0]});
  CHECK(some.status == 3);
  CHECK(some.err.find("convkit: 1 of 2 inputs failed") != std::string::npos);
  auto none = run_convkit({"edge", "-q", "--outdir", dir + "/n", files[0]});
  CHECK(none.status == 0);
  CHECK(none.err.empty());
  auto usage = run_convkit({"edge", "--outdir", dir + "/u"});
  CHECK(usage.status == 2);
  CHECK(usage.err.find("--files-from") != std::string::npos);
}

TEST_CASE("[batch] convolve INPUT... KERNEL --outdir gives each input's single-run output") {
  auto dir = temp_dir();
  auto files = make_inputs(dir, 3);
  const std::vector<std::string> how = {"--mode", "same", "--offset", "128"};
  for (std::string kernel : {"sobel-x", "[1 0 -1; 2 0 -2; 1 0 -1]"}) {
    CAPTURE(kernel);
    fs::remove_all(dir + "/many");
    auto r = run_convkit(concat(
        concat(concat({"convolve"}, files), {kernel, "-j", "2", "-q", "--outdir", dir + "/many"}),
        how));
    REQUIRE(r.status == 0);
    CHECK(listing(dir + "/many") == std::set<std::string>{"img0.png", "img1.png", "img2.png"});
    for (const auto& f : files) {
      std::string one = dir + "/one.png";
      REQUIRE(run_convkit(concat({"convolve", f, kernel, "-o", one}, how)).status == 0);
      CHECK(read_file(one) == read_file(dir + "/many/" + fs::path(f).filename().string()));
    }
  }
  // --files-from with only KERNEL on the command line; a text input fails alone.
  write_file(dir + "/x.txt", "1 2 3\n");
  write_file(dir + "/list", files[0] + "\n" + dir + "/x.txt\n");
  auto l = run_convkit(concat({"convolve", "--files-from", dir + "/list", "sobel-x", "--outdir",
                               dir + "/l", "--log", dir + "/l.jsonl"},
                              how));
  CHECK(l.status == 3);
  CHECK(l.err.find("x.txt: cannot name its output") != std::string::npos);
  CHECK(read_log(dir + "/l.jsonl").size() == 2);
  CHECK(listing(dir + "/l") == std::set<std::string>{"img0.png"});
  // One INPUT with -o is the plain command; batch flags without --outdir are refused.
  CHECK(run_convkit({"convolve", files[0], "sobel-x", "--shard", "1/2", "-o", dir + "/s.png"})
            .status == 2);
  auto typo = run_convkit(
      {"convolve", files[0], files[1], "sobel-x", "--outdir", dir + "/t", "--mdoe", "same"});
  CHECK(typo.status == 2);
  CHECK(typo.err.find("--mdoe") != std::string::npos);
  CHECK(!fs::exists(dir + "/t"));
}
