// [cli] batch work: many inputs, --outdir, --suffix, --format, -j, --shard, failures.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

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

TEST_CASE("[cli] a batch with a corrupt file processes the others and exits 1") {
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
    CHECK(r.status == 1);
    CHECK(listing(out) == std::set<std::string>{"img0.png", "img1.png", "img2.png"});
    // one line per failed file naming it, then the summary
    CHECK(r.err.find("convkit: error: ") != std::string::npos);
    CHECK(r.err.find("broken.png") != std::string::npos);
    CHECK(r.err.find("missing.png") != std::string::npos);
    CHECK(r.err.find("2 of 5 files failed") != std::string::npos);
    auto q = run_convkit(concat({cmd, "--quiet", "--outdir", out}, files));
    CHECK(q.status == 1);
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
