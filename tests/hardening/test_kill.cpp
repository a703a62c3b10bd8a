// [hardening] killing convkit while it writes never leaves a partial file:
// the old output stays intact or the new one is complete, and no temporary
// file is left in the directory — for SIGKILL (no chance to clean up) and
// SIGINT, at many moments during the write.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/run.hpp"

namespace fs = std::filesystem;
using namespace convkit::test;

namespace {

pid_t spawn_convkit(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = {CONVKIT_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The test kills the child at once, maybe before it has exec'd: block the
  // signals over fork so that doctest's handlers never run in the child.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    // Quiet child: no output on the test's terminal.  Only async-signal-safe
    // calls between fork and exec (the test process has threads).
    int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
  return pid;
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("[hardening] a killed write leaves the previous output or a complete new one") {
  const std::string dir = temp_dir();
  const std::string in = dir + "/in.png";
  const std::string out = dir + "/out.png";
  // A large noisy input, so that filtering and encoding take a while.
  cv::Mat img(1400, 1400, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  REQUIRE(cv::imwrite(in, img));
  // The previous output: a small, recognisable image.
  cv::Mat old(7, 5, CV_8UC1, cv::Scalar(42));
  REQUIRE(cv::imwrite(out, old));
  const std::string old_bytes = read_file(out);

  int saw_old = 0, saw_new = 0;
  for (int sig : {SIGKILL, SIGINT}) {
    for (int delay_ms : {0, 5, 20, 50, 100, 200, 400, 800}) {
      CAPTURE(sig);
      CAPTURE(delay_ms);
      pid_t pid = spawn_convkit({"blur", in, "--sigma", "4", "--threads", "1", "-o", out});
      REQUIRE(pid > 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      kill(pid, sig);
      int status = 0;
      waitpid(pid, &status, 0);
      // Only the input and the output: no temporary file left behind.
      CHECK(dir_entries(dir) == std::vector<std::string>{"in.png", "out.png"});
      const std::string now = read_file(out);
      if (now == old_bytes) {
        ++saw_old;
      } else {
        // A complete, decodable image of the input's size.
        cv::Mat got = cv::imread(out, cv::IMREAD_UNCHANGED);
        REQUIRE_FALSE(got.empty());
        CHECK(got.rows == img.rows);
        CHECK(got.cols == img.cols);
        ++saw_new;
        REQUIRE(cv::imwrite(out, old));  // reset for the next round
      }
    }
  }
  // The early kills must have caught the run before it finished.
  CHECK(saw_old > 0);
  MESSAGE("kills before the rename: " << saw_old << ", after: " << saw_new);
}

TEST_CASE("[hardening] -o may name the input itself") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/x.png";
  cv::Mat img(40, 30, CV_8UC1);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  REQUIRE(cv::imwrite(path, img));
  auto r = run_convkit({"blur", path, "--type", "box", "--size", "3", "-o", path});
  CHECK(r.status == 0);
  cv::Mat got = cv::imread(path, cv::IMREAD_UNCHANGED);
  REQUIRE_FALSE(got.empty());
  cv::Mat want;
  cv::blur(img, want, cv::Size(3, 3));  // OpenCV's default border is reflect-101, as ours
  cv::Mat diff;
  cv::absdiff(got, want, diff);
  double maxdiff = 0;
  cv::minMaxLoc(diff, nullptr, &maxdiff);
  CHECK(maxdiff <= 1);
  CHECK(dir_entries(dir) == std::vector<std::string>{"x.png"});
}

TEST_CASE("[hardening] an unwritable output directory is a clear error with nothing written") {
  const std::string dir = temp_dir();
  const std::string in = dir + "/in.png";
  cv::Mat img(10, 10, CV_8UC1, cv::Scalar(3));
  REQUIRE(cv::imwrite(in, img));
  auto r = run_convkit({"blur", in, "-o", dir + "/no/such/dir/out.png"});
  CHECK(r.status == 1);
  CHECK(r.err.rfind("convkit: error: ", 0) == 0);
  CHECK(r.err.find("out.png") != std::string::npos);
  if (geteuid() != 0) {  // root may write anywhere
    const std::string ro = dir + "/ro";
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    auto r2 = run_convkit({"blur", in, "-o", ro + "/out.png"});
    CHECK(r2.status == 1);
    CHECK(fs::is_empty(ro));
  }
}

TEST_CASE("[hardening] a full disk is a clear error and the old output survives") {
  if (!fs::exists("/dev/full")) return;
  // /dev/full fails every write with ENOSPC; writing to it goes through the
  // same error paths as a full file system.
  const std::string dir = temp_dir();
  const std::string in = dir + "/in.txt";
  write_file(in, "1 2 3\n");
  auto r = run_convkit({"convolve", in, "[1 1]"});
  REQUIRE(r.status == 0);  // the command itself works
  // The same command with standard output on /dev/full.
  pid_t pid = fork();
  if (pid == 0) {
    int full_fd = open("/dev/full", O_WRONLY);
    int null_fd = open("/dev/null", O_WRONLY);
    dup2(full_fd, 1);
    dup2(null_fd, 2);
    execl(CONVKIT_BINARY, CONVKIT_BINARY, "convolve", in.c_str(), "[1 1]", (char*)nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);

  // A file output on a full disk: a file size limit (RLIMIT_FSIZE, with
  // SIGXFSZ ignored) makes writes past 4 KiB fail as they would on a full
  // file system.  The previous output must survive untouched, nothing
  // partial may appear, and the error is one line.
  cv::Mat big(256, 256, CV_8UC3);
  cv::randu(big, 0, 256);
  REQUIRE(cv::imwrite(dir + "/big.png", big));
  write_file(dir + "/small.pgm", "P5\n2 2\n255\n\x01\x02\x03\x04");
  REQUIRE(run_convkit({"blur", dir + "/small.pgm", "-o", dir + "/out.png"}).status == 0);
  const std::string before = read_file(dir + "/out.png");
  pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit lim{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &lim);
    int err_fd = open((dir + "/err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(err_fd, 2);
    execl(CONVKIT_BINARY, CONVKIT_BINARY, "blur", (dir + "/big.png").c_str(), "-o",
          (dir + "/out.png").c_str(), (char*)nullptr);
    _exit(127);
  }
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  const std::string err = read_file(dir + "/err.txt");
  CHECK(err.rfind("convkit: error: ", 0) == 0);
  CHECK(err.find("File too large") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  CHECK(read_file(dir + "/out.png") == before);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename().string()[0] == '.';
  CHECK(files == 0);
}
