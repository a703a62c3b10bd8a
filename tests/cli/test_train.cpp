// [cli] train, eval and predict through the real binary, on the built-in
// synthetic set and small generated files: accuracy, reproducibility,
// resume, interruption by SIGINT and SIGKILL, and refusals.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "convkit/train/checkpoint.hpp"
#include "support/run.hpp"
#include "support/train_runs.hpp"

using convkit::Checkpoint;
using convkit::load_checkpoint;
using convkit::test::check_same_run;
using convkit::test::read_file;
using convkit::test::run_convkit;
using convkit::test::temp_dir;
using convkit::test::wait_for_checkpoint;
using convkit::test::write_file;
namespace fs = std::filesystem;

namespace {

const std::string kSeedNet = "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3";

std::vector<std::string> edges_args(const std::string& out, int epochs,
                                    const std::string& net = kSeedNet) {
  return {"train", "--data",   "synthetic-edges",      "--arch", net, "--lr",
          "0.01",  "--epochs", std::to_string(epochs), "-o",     out, "--threads",
          "2",     "--quiet"};
}

std::string pgm(const std::function<int(int, int)>& px) {
  std::string s = "P5\n8 8\n255\n";
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) s += char(px(y, x));
  return s;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& err_path) {
  std::vector<std::string> argv_s = {CONVKIT_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDWR);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

TEST_CASE("[cli] train: the seed's 3(f) network learns synthetic-edges perfectly") {
  const std::string dir = temp_dir();
  auto args = edges_args(dir + "/e.ckpt", 12);
  args.insert(args.end(), {"--log", dir + "/e.csv", "--plot", dir + "/curves.png"});
  auto r = run_convkit(args);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("epoch 12/12") != std::string::npos);
  CHECK(r.out.find("saved " + dir + "/e.ckpt (epoch 12)") != std::string::npos);
  const Checkpoint c = load_checkpoint(dir + "/e.ckpt");
  CHECK(c.history.back().val_acc == 1.0);
  CHECK(c.history.back().train_acc == 1.0);
  CHECK(c.class_names == std::vector<std::string>{"horizontal", "vertical", "none"});
  const std::string csv = read_file(dir + "/e.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 13);
  const cv::Mat png = cv::imread(dir + "/curves.png", cv::IMREAD_COLOR);
  CHECK(png.cols == 1000);
  CHECK(png.rows == 420);

  // eval on the separate test part: also perfect, every class.
  auto e = run_convkit({"eval", "-m", dir + "/e.ckpt", "--json"});
  REQUIRE(e.status == 0);
  CHECK(e.out.find("\"accuracy\": 1,") != std::string::npos);
  CHECK(e.out.find("[100, 0, 0]") != std::string::npos);
  CHECK(e.out.find("[0, 0, 100]") != std::string::npos);

  // predict: the seed's x1 (a horizontal line), x3 (a vertical line), a blank image.
  write_file(dir + "/h.pgm", pgm([](int y, int) { return y == 2 ? 255 : 0; }));
  write_file(dir + "/v.pgm", pgm([](int, int x) { return x == 6 ? 255 : 0; }));
  write_file(dir + "/n.pgm", pgm([](int, int) { return 0; }));
  auto p = run_convkit({"predict", "-m", dir + "/e.ckpt", "-k", "1", dir + "/h.pgm", dir + "/v.pgm",
                        dir + "/n.pgm"});
  REQUIRE(p.status == 0);
  CHECK(p.out.find("h.pgm: horizontal") != std::string::npos);
  CHECK(p.out.find("v.pgm: vertical") != std::string::npos);
  CHECK(p.out.find("n.pgm: none") != std::string::npos);
  // One bad image does not stop the others; the status says some failed.
  auto q = run_convkit({"predict", "-m", dir + "/e.ckpt", dir + "/missing.pgm", dir + "/h.pgm"});
  CHECK(q.status == 1);
  CHECK(q.out.find("h.pgm: horizontal") != std::string::npos);
  CHECK(q.err.find("missing.pgm") != std::string::npos);
}

TEST_CASE("[cli] train: the same seed and threads give bit-identical weights and metrics") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit(edges_args(dir + "/a.ckpt", 3)).status == 0);
  REQUIRE(run_convkit(edges_args(dir + "/b.ckpt", 3)).status == 0);
  check_same_run(load_checkpoint(dir + "/a.ckpt"), load_checkpoint(dir + "/b.ckpt"));
  auto other = edges_args(dir + "/c.ckpt", 3);
  other.insert(other.end(), {"--seed", "2"});
  REQUIRE(run_convkit(other).status == 0);
  CHECK(load_checkpoint(dir + "/c.ckpt").tensors[0].data !=
        load_checkpoint(dir + "/a.ckpt").tensors[0].data);
}

TEST_CASE("[cli] train --resume continues exactly like an uninterrupted run") {
  const std::string dir = temp_dir();
  // Dropout and augmentation draw random numbers every epoch: the hard case.
  const std::string net = "CONV3-4/circular ReLU DROPOUT0.25 CONV3-4 ReLU GAP FC-3";
  // A step schedule does not depend on the planned number of epochs (a
  // cosine one does), so a 2-epoch run continued to 5 must equal a 5-epoch run.
  const std::vector<std::string> extra = {"--augment",      "crop:1,flip", "--optimizer", "adamw",
                                          "--weight-decay", "0.01",        "--schedule",  "step",
                                          "--step-epochs",  "2",           "--gamma",     "0.5"};
  auto full = edges_args(dir + "/full.ckpt", 5, net);
  full.insert(full.end(), extra.begin(), extra.end());
  REQUIRE(run_convkit(full).status == 0);
  auto part = edges_args(dir + "/part.ckpt", 2, net);
  part.insert(part.end(), extra.begin(), extra.end());
  REQUIRE(run_convkit(part).status == 0);
  REQUIRE(load_checkpoint(dir + "/part.ckpt").epoch == 2);
  auto r = run_convkit({"train", "--resume", dir + "/part.ckpt", "--epochs", "5", "--quiet"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("resuming after epoch 2") != std::string::npos);
  check_same_run(load_checkpoint(dir + "/full.ckpt"), load_checkpoint(dir + "/part.ckpt"));
  // Settings that would change the run are refused on --resume.
  auto bad = run_convkit({"train", "--resume", dir + "/part.ckpt", "--epochs", "6", "--lr", "1"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--lr cannot change on --resume") != std::string::npos);
  auto init =
      run_convkit({"train", "--resume", dir + "/part.ckpt", "--epochs", "6", "--init", "uniform"});
  CHECK(init.status == 2);
  CHECK(init.err.find("--init cannot change on --resume") != std::string::npos);
  CHECK(load_checkpoint(dir + "/part.ckpt").setting("init") == "he");
}

TEST_CASE("[cli] train: SIGINT stops cleanly, SIGKILL leaves a valid checkpoint, resume matches") {
  const std::string dir = temp_dir();
  const std::string net = "CONV3-24/circular ReLU CONV3-24/circular ReLU GAP FC-3";
  SUBCASE("SIGINT") {
    const pid_t pid = spawn(edges_args(dir + "/s.ckpt", 100000, net), dir + "/err.txt");
    REQUIRE(wait_for_checkpoint(dir + "/s.ckpt", 1, pid));
    kill(pid, SIGINT);
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    REQUIRE(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 1);
    const std::string err = read_file(dir + "/err.txt");
    CHECK(err.find("convkit: error: interrupted during epoch") == 0);
    CHECK(err.find("--resume " + dir + "/s.ckpt") != std::string::npos);
    const Checkpoint c = load_checkpoint(dir + "/s.ckpt");
    CHECK(c.epoch >= 1);
    CHECK(c.history.size() == static_cast<std::size_t>(c.epoch));
    // No temporary files are left behind.
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename() != "err.txt";
    CHECK(files == 1);
  }
  SUBCASE("SIGKILL, then resume to the same result as a run never killed") {
    auto args = edges_args(dir + "/k.ckpt", 100000, net);
    args.insert(args.end(), {"--schedule", "constant"});
    const pid_t pid = spawn(args, dir + "/err.txt");
    REQUIRE(wait_for_checkpoint(dir + "/k.ckpt", 1, pid));
    std::this_thread::sleep_for(std::chrono::milliseconds(37));
    kill(pid, SIGKILL);
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st));
    const int saved = load_checkpoint(dir + "/k.ckpt").epoch;
    REQUIRE(saved >= 1);
    const int total = saved + 1;
    // The killed run was started with --epochs 100000; the settings stored
    // say so, and --epochs gives the new total.
    auto r = run_convkit(
        {"train", "--resume", dir + "/k.ckpt", "--epochs", std::to_string(total), "--quiet"});
    REQUIRE(r.status == 0);
    // The reference: a run of `total` epochs never interrupted (the constant
    // learning rate does not depend on the planned number of epochs).
    REQUIRE(run_convkit({"train", "--data", "synthetic-edges", "--arch", net, "--lr", "0.01",
                         "--epochs", std::to_string(total), "-o", dir + "/ref.ckpt", "--threads",
                         "2", "--quiet", "--schedule", "constant"})
                .status == 0);
    check_same_run(load_checkpoint(dir + "/k.ckpt"), load_checkpoint(dir + "/ref.ckpt"));
  }
}

TEST_CASE("[cli] train: a cosine run may not be extended on --resume") {
  // The default schedule is cosine, planned over --epochs: a larger total
  // would change the learning rate of the epochs already run.
  const std::string dir = temp_dir();
  REQUIRE(run_convkit(edges_args(dir + "/c.ckpt", 2)).status == 0);
  const Checkpoint c = load_checkpoint(dir + "/c.ckpt");
  CHECK(c.setting("schedule") == "cosine");
  CHECK(c.history.back().lr < c.history.front().lr);
  auto r = run_convkit({"train", "--resume", dir + "/c.ckpt", "--epochs", "4", "--quiet"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--epochs cannot change on --resume with the cosine schedule") == 16);
  CHECK(r.err.find("decays to 0 at epoch 2") != std::string::npos);
  CHECK(load_checkpoint(dir + "/c.ckpt").epoch == 2);  // untouched
  // The planned total is accepted (and there is nothing left to do).
  auto same = run_convkit({"train", "--resume", dir + "/c.ckpt", "--epochs", "2", "--quiet"});
  CHECK(same.status == 0);
  CHECK(same.out.find("nothing to do") != std::string::npos);
}

TEST_CASE("[cli] train, eval and predict refuse bad input with one line") {
  const std::string dir = temp_dir();
  auto one_line = [](const convkit::test::RunResult& r) {
    return r.err.rfind("convkit: error: ", 0) == 0 && r.err.find('\n') == r.err.size() - 1;
  };
  SUBCASE("no network") {
    auto r = run_convkit({"train", "--data", "synthetic-edges"});
    CHECK(r.status == 2);
    CHECK(one_line(r));
  }
  SUBCASE("a malformed SPEC") {
    auto r = run_convkit({"train", "--data", "synthetic-edges", "--arch", "CONV2-3 FOO FC-3"});
    CHECK(r.status == 2);
  }
  SUBCASE("the wrong number of outputs") {
    auto r = run_convkit({"train", "--data", "synthetic-edges", "--arch", "CONV2-3 ReLU GAP FC-5",
                          "-o", dir + "/x"});
    CHECK(r.status == 2);
    CHECK(r.err.find("end the SPEC with FC-3") != std::string::npos);
    CHECK(!fs::exists(dir + "/x"));
  }
  SUBCASE("an unknown data set") {
    auto r = run_convkit({"train", "--data", dir + "/nothing", "--arch", kSeedNet});
    CHECK(r.status == 2);
    CHECK(one_line(r));
  }
  SUBCASE("corrupt, truncated and foreign checkpoints") {
    REQUIRE(run_convkit(edges_args(dir + "/m.ckpt", 1)).status == 0);
    std::string b = read_file(dir + "/m.ckpt");
    write_file(dir + "/trunc.ckpt", b.substr(0, b.size() / 2));
    b[b.size() / 2] = char(b[b.size() / 2] ^ 1);
    write_file(dir + "/flip.ckpt", b);
    write_file(dir + "/foreign.ckpt", pgm([](int, int) { return 0; }));
    for (const auto& [file, needle] :
         std::vector<std::pair<std::string, std::string>>{{"trunc.ckpt", "truncated"},
                                                          {"flip.ckpt", "checksum"},
                                                          {"foreign.ckpt", "not a convkit"}}) {
      CAPTURE(file);
      for (const char* cmd : {"eval", "resume", "predict"}) {
        CAPTURE(cmd);
        auto r = std::string(cmd) == "eval" ? run_convkit({"eval", "-m", dir + "/" + file})
                 : std::string(cmd) == "resume"
                     ? run_convkit({"train", "--resume", dir + "/" + file, "--epochs", "3"})
                     : run_convkit({"predict", "-m", dir + "/" + file, dir + "/foreign.ckpt"});
        CHECK(r.status == 1);
        CHECK(one_line(r));
        CHECK(r.err.find(file) != std::string::npos);
        CHECK(r.err.find(needle) != std::string::npos);
      }
    }
  }
  SUBCASE("a model used on data of another shape") {
    REQUIRE(run_convkit(edges_args(dir + "/m.ckpt", 1)).status == 0);
    fs::create_directories(dir + "/imgs/a");
    write_file(dir + "/imgs/a/1.pgm", "P5\n3 1\n255\nabc");
    auto r = run_convkit({"eval", "-m", dir + "/m.ckpt", "--data", dir + "/imgs"});
    CHECK(r.status == 1);
    CHECK(r.err.find("8x8x1") != std::string::npos);
    auto p = run_convkit({"predict", "-m", dir + "/m.ckpt", dir + "/imgs/a/1.pgm"});
    CHECK(p.status == 1);
    CHECK(p.err.find("takes 8x8") != std::string::npos);
  }
}

namespace {

// 8x8 images of a class by its name: "a" a bright row, "b" a bright column,
// anything else a faint texture; image k moves the line.  The same name and k
// always give the same image, wherever the class folder is.
void write_class_folders(const std::string& root, const std::vector<std::string>& classes,
                         int per_class) {
  for (const auto& c : classes) {
    fs::create_directories(root + "/" + c);
    for (int k = 0; k < per_class; ++k)
      write_file(root + "/" + c + "/" + std::to_string(k) + ".pgm", pgm([&](int y, int x) {
                   if ((c == "a" && y == k % 8) || (c == "b" && x == k % 8)) return 255;
                   return (x * 7 + y * 3 + k * 11) % 40;
                 }));
  }
}

// The rows of the confusion matrix in `eval --json` output.
std::vector<std::string> confusion_rows(const std::string& json) {
  std::vector<std::string> rows;
  std::size_t at = json.find("\"confusion\"");
  REQUIRE(at != std::string::npos);
  while ((at = json.find("\n    [", at)) != std::string::npos) {
    const std::size_t end = json.find(']', at);
    rows.push_back(json.substr(at + 5, end - at - 4));
    at = end;
  }
  return rows;
}

std::vector<std::string> folder_args(const std::string& data, const std::string& out, int epochs) {
  return {"train",
          "--data",
          data,
          "--arch",
          "FLATTEN FC-3",
          "--epochs",
          std::to_string(epochs),
          "--schedule",
          "constant",
          "--lr",
          "0.01",
          "-o",
          out,
          "--threads",
          "1",
          "--quiet"};
}

bool one_error_line(const convkit::test::RunResult& r) {
  return r.err.rfind("convkit: error: ", 0) == 0 && r.err.find('\n') == r.err.size() - 1;
}

}  // namespace

TEST_CASE("[train] eval matches classes by name when a folder lacks one") {
  const std::string dir = temp_dir();
  write_class_folders(dir + "/ds/train", {"a", "b", "c"}, 6);
  write_class_folders(dir + "/ds/test", {"a", "b", "c"}, 3);
  // The test images of b and c alone, in a folder that lacks a.
  write_class_folders(dir + "/part", {"b", "c"}, 3);
  REQUIRE(run_convkit(folder_args(dir + "/ds", dir + "/m.ckpt", 3)).status == 0);
  const auto full = run_convkit({"eval", "-m", dir + "/m.ckpt", "--data", dir + "/ds", "--json"});
  REQUIRE(full.status == 0);
  const auto part = run_convkit({"eval", "-m", dir + "/m.ckpt", "--data", dir + "/part", "--json"});
  REQUIRE(part.status == 0);
  const auto rows = confusion_rows(full.out), prow = confusion_rows(part.out);
  REQUIRE(rows.size() == 3);
  REQUIRE(prow.size() == 3);
  CHECK(prow[0] == "[0, 0, 0]");  // no image of a
  CHECK(prow[1] == rows[1]);      // b and c scored as in the full test part
  CHECK(prow[2] == rows[2]);
  CHECK(part.out.find("{\"name\": \"a\", \"images\": 0, \"accuracy\": null}") != std::string::npos);
  CHECK(part.err.find("convkit: note:") != std::string::npos);
  CHECK(part.err.find("1 of the model's 3 classes: a") != std::string::npos);

  // A class the model does not know is refused, naming it.
  write_class_folders(dir + "/foreign", {"b", "zebra"}, 2);
  const auto f = run_convkit({"eval", "-m", dir + "/m.ckpt", "--data", dir + "/foreign"});
  CHECK(f.status == 1);
  CHECK(one_error_line(f));
  CHECK(f.err.find("'zebra'") != std::string::npos);
  CHECK(f.out.empty());
}

TEST_CASE("[train] eval says it scores a whole folder that has no test part") {
  const std::string dir = temp_dir();
  write_class_folders(dir + "/ds/train", {"a", "b", "c"}, 4);
  write_class_folders(dir + "/ds/test", {"a", "b", "c"}, 2);
  REQUIRE(run_convkit(folder_args(dir + "/ds", dir + "/m.ckpt", 1)).status == 0);
  const auto r = run_convkit({"eval", "-m", dir + "/m.ckpt", "--data", dir + "/ds/train"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("all images of the folder") != std::string::npos);
  CHECK(r.out.find("test part") == std::string::npos);
  CHECK(r.out.find("12 images") != std::string::npos);
  const auto j =
      run_convkit({"eval", "-m", dir + "/m.ckpt", "--data", dir + "/ds/train", "--json"});
  CHECK(j.out.find("\"split\": \"all\"") != std::string::npos);
  const auto t = run_convkit({"eval", "-m", dir + "/m.ckpt", "--data", dir + "/ds"});
  CHECK(t.out.find("(test part, 6 images)") != std::string::npos);
}

TEST_CASE("[train] outputs of one command that name the same file are refused") {
  const std::string dir = temp_dir();
  fs::create_directories(dir + "/sub");
  fs::create_symlink("run.ckpt", dir + "/link.ckpt");
  const std::vector<std::vector<std::string>> pairs = {
      {"-o", "run.ckpt", "--log", "run.ckpt"},
      {"-o", "c.png", "--plot", "./c.png"},
      {"-o", "run.ckpt", "--log", "sub/../run.ckpt"},
      {"-o", "link.ckpt", "--log", dir + "/run.ckpt"},
      {"--log", "l.png", "--plot", "l.png"}};
  for (const auto& p : pairs) {
    CAPTURE(p[1]);
    CAPTURE(p[3]);
    std::vector<std::string> args = {"train",    "--data", "synthetic-edges", "--arch", kSeedNet,
                                     "--epochs", "1",      "--quiet"};
    args.insert(args.end(), p.begin(), p.end());
    const auto r = run_convkit(args, "", dir);
    CHECK(r.status == 2);
    CHECK(one_error_line(r));
    CHECK(r.err.find("same file") != std::string::npos);
    CHECK(r.out.empty());
    CHECK(!fs::exists(dir + "/run.ckpt"));
    CHECK(!fs::exists(dir + "/c.png"));
    CHECK(!fs::exists(dir + "/l.png"));
  }
  // A log over the checkpoint being resumed (written elsewhere with -o).
  auto first = edges_args(dir + "/first.ckpt", 1);
  first.insert(first.end(), {"--schedule", "constant"});
  REQUIRE(run_convkit(first).status == 0);
  const std::string before = read_file(dir + "/first.ckpt");
  const auto r = run_convkit({"train", "--resume", "first.ckpt", "--epochs", "2", "-o",
                              "second.ckpt", "--log", "./first.ckpt", "--quiet"},
                             "", dir);
  CHECK(r.status == 2);
  CHECK(one_error_line(r));
  CHECK(r.err.find("checkpoint being resumed") != std::string::npos);
  CHECK(read_file(dir + "/first.ckpt") == before);
  CHECK(!fs::exists(dir + "/second.ckpt"));
}

TEST_CASE("[train] an unwritable --log or --plot fails before the first epoch") {
  const std::string dir = temp_dir();
  write_file(dir + "/file", "not a directory");
  for (const auto& [flag, path] :
       std::vector<std::pair<std::string, std::string>>{{"--log", dir + "/missing/log.csv"},
                                                        {"--plot", dir + "/file/curves.png"},
                                                        {"-o", dir + "/missing/m.ckpt"},
                                                        {"--log", dir}}) {
    CAPTURE(path);
    std::vector<std::string> args = {"train",    "--data", "synthetic-edges", "--arch", kSeedNet,
                                     "--epochs", "2",      "--quiet"};
    if (flag != "-o") args.insert(args.end(), {"-o", dir + "/m.ckpt"});
    args.push_back(flag);
    args.push_back(path);
    const auto r = run_convkit(args);
    CHECK(r.status == 1);
    CHECK(one_error_line(r));
    CHECK(r.err.find(flag + " " + path) != std::string::npos);
    CHECK(r.out.find("epoch 1/") == std::string::npos);
    CHECK(!fs::exists(dir + "/m.ckpt"));
  }
}

TEST_CASE("[train] resume keeps its data, log and plot, from any directory, and refuses new data") {
  const std::string dir = temp_dir();
  write_class_folders(dir + "/work/ds", {"a", "b", "c"}, 4);
  write_class_folders(dir + "/other", {"a", "b", "c"}, 4);
  // Relative paths, given in dir/work.
  auto args = folder_args("ds", "m.ckpt", 1);
  for (const char* a : {"--log", "log.csv", "--plot", "curves.png"}) args.push_back(a);
  REQUIRE(run_convkit(args, "", dir + "/work").status == 0);
  const Checkpoint ck = load_checkpoint(dir + "/work/m.ckpt");
  CHECK(ck.setting("data") == fs::canonical(dir + "/work/ds").string());
  fs::remove(dir + "/work/curves.png");

  // From dir, not dir/work: the data, the log and the plot are found again.
  const auto r =
      run_convkit({"train", "--resume", "work/m.ckpt", "--epochs", "2", "--quiet"}, "", dir);
  CHECK(r.status == 0);
  CAPTURE(r.err);
  CHECK(load_checkpoint(dir + "/work/m.ckpt").epoch == 2);
  const std::string log = read_file(dir + "/work/log.csv");
  CHECK(std::count(log.begin(), log.end(), '\n') == 3);  // header and two epochs
  CHECK(fs::exists(dir + "/work/curves.png"));

  // Other data is refused; the same data by another path is not.
  const auto o = run_convkit(
      {"train", "--resume", "work/m.ckpt", "--epochs", "3", "--data", "other", "--quiet"}, "", dir);
  CHECK(o.status == 2);
  CHECK(one_error_line(o));
  CHECK(o.err.find("--data cannot change on --resume") != std::string::npos);
  CHECK(load_checkpoint(dir + "/work/m.ckpt").epoch == 2);
  const auto same = run_convkit(
      {"train", "--resume", "work/m.ckpt", "--epochs", "3", "--data", "./work/ds/", "--quiet"}, "",
      dir);
  CHECK(same.status == 0);
  CHECK(load_checkpoint(dir + "/work/m.ckpt").epoch == 3);

  // A class was renamed since: the classes no longer match the model's.
  fs::rename(dir + "/work/ds/c", dir + "/work/ds/z");
  const auto d =
      run_convkit({"train", "--resume", "work/m.ckpt", "--epochs", "4", "--quiet"}, "", dir);
  CHECK(d.status == 1);
  CHECK(d.err.find("classes") != std::string::npos);
}

TEST_CASE("[train] --log JSON writes null, not nan, without a validation part") {
  const std::string dir = temp_dir();
  auto args = edges_args(dir + "/m.ckpt", 1);
  for (const char* a : {"--val-split", "0", "--log"}) args.push_back(a);
  args.push_back(dir + "/log.json");
  REQUIRE(run_convkit(args).status == 0);
  const std::string j = read_file(dir + "/log.json");
  CHECK(j.find("\"val_loss\": null, \"val_acc\": null") != std::string::npos);
  CHECK(j.find("nan") == std::string::npos);
  CHECK(j.find("\"train_loss\": 0.") != std::string::npos);
}

TEST_CASE("[train] --arch-file gets the architecture file's checks: NUL bytes, byte-order mark") {
  const std::string dir = temp_dir();
  write_class_folders(dir + "/data", {"a", "b", "c"}, 2);
  write_file(dir + "/nul.arch", std::string("FLATTEN\0 FC-3\n", 14));
  write_file(dir + "/bom.arch", "\xEF\xBB\xBF# three classes\nFLATTEN FC-3\n");
  auto args = folder_args(dir + "/data", dir + "/m.ckpt", 1);
  args.erase(args.begin() + 3, args.begin() + 5);  // --arch SPEC
  auto nul = args;
  nul.insert(nul.end(), {"--arch-file", dir + "/nul.arch"});
  const auto r = run_convkit(nul);
  CHECK(r.status == 1);
  CHECK(r.err == "convkit: error: " + dir +
                     "/nul.arch: the architecture file contains NUL bytes (is it a text file?)\n");
  CHECK(!fs::exists(dir + "/m.ckpt"));
  auto bom = args;
  bom.insert(bom.end(), {"--arch-file", dir + "/bom.arch"});
  const auto ok = run_convkit(bom);
  CHECK_MESSAGE(ok.status == 0, ok.err);
  CHECK(fs::exists(dir + "/m.ckpt"));
}

TEST_CASE("[train] --data naming a file says it is not a directory, not that it is missing") {
  const std::string dir = temp_dir();
  write_file(dir + "/set.txt", "1 2 3\n");
  for (const std::string& data : {dir + "/set.txt", std::string("/dev/zero")}) {
    CAPTURE(data);
    auto args = folder_args(data, dir + "/m.ckpt", 1);
    const auto r = run_convkit(args);
    CHECK(r.status == 2);
    CHECK(one_error_line(r));
    CHECK(r.err.rfind("convkit: error: " + data + ": not a directory, so not a data set; use ",
                      0) == 0);
    CHECK(!fs::exists(dir + "/m.ckpt"));
  }
  const auto missing = run_convkit(folder_args(dir + "/none", dir + "/m.ckpt", 1));
  CHECK(missing.status == 2);
  CHECK(missing.err.find(dir + "/none: no such data set; use ") != std::string::npos);
}
