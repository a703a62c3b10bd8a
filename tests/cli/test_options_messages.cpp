// [cli] options, messages and text formats: every input either comes out
// right or is refused in one printable line naming the option or file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/filtering_fixtures.hpp"
#include "support/run.hpp"

using convkit::test::numeric_options_in_help;
using convkit::test::parse_pairs;
using convkit::test::read_file;
using convkit::test::run_convkit;
using convkit::test::RunResult;
using convkit::test::temp_dir;
using convkit::test::write_file;
namespace fs = std::filesystem;

namespace {

bool one_printable_error_line(const RunResult& r) {
  return convkit::test::is_one_error_line(r);
}

cv::Mat random_grey(int h, int w, int seed, int hi = 256) {
  cv::Mat m(h, w, CV_8UC1);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(m, 0, hi);
  return m;
}

}  // namespace

TEST_CASE(
    "[cli] blur --sigma nan, inf, 0, 1e400 and 1e-400 are refused naming the option and its "
    "range") {
  const std::string dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", random_grey(8, 8, 1)));
  for (const char* bad : {"nan", "inf", "-inf", "0", "-1", "1e400", "1e-400", "abc"}) {
    CAPTURE(bad);
    auto r = run_convkit({"blur", "in.png", "--sigma", bad, "-o", "out.png"}, "", dir);
    CHECK(r.status == 2);
    CHECK(one_printable_error_line(r));
    CHECK(r.err.find("--sigma") != std::string::npos);
    CHECK(r.err.find("a number greater than 0") != std::string::npos);
    CHECK(r.err.size() < 200);  // no 310-digit DBL_MAX
    CHECK_FALSE(fs::exists(dir + "/out.png"));
  }
}

namespace {

// The numeric options of `convkit CMD --help`: every option whose value is
// shown as INT, UINT or FLOAT (CLI11 prints the value's type after the name),
// mapped to whether it takes whole numbers.
std::map<std::string, bool> numeric_options_from_help(const std::string& command) {
  std::map<std::string, bool> found;
  for (const auto& [name, type] : numeric_options_in_help(run_convkit({command, "--help"}).out))
    found[name] = type != "FLOAT";
  return found;
}

// The subcommands `convkit --help` lists.
std::vector<std::string> subcommands_from_help() {
  const RunResult h = run_convkit({"--help"});
  std::vector<std::string> found;
  std::istringstream in(h.out.substr(h.out.find("Subcommands:")));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && line.rfind("  ", 0) == 0) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    found.push_back(name);
  }
  return found;
}

}  // namespace

TEST_CASE("[cli] every numeric option of every command refuses nan and inf naming the option") {
  const std::string dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", random_grey(8, 8, 2)));
  write_file(dir + "/s.txt", "1\n2\n3\n");
  // Arguments each command runs with, apart from the option under test; the
  // work they ask for fails fast (missing model, missing data set), so a
  // value that slipped through shows as a wrong status, not a long run.
  const std::map<std::string, std::vector<std::string>> base = {
      {"convolve", {"s.txt", "[1 1]", "-o", "o.txt"}},
      {"signal", {"sine", "--length", "4", "--freq", "0.1", "-o", "o.txt"}},
      {"sample", {"gaussian", "-o", "o.txt"}},
      {"filters", {}},
      {"blur", {"in.png", "-o", "o.png"}},
      {"edge", {"in.png", "-o", "o.png"}},
      {"median", {"in.png", "-o", "o.png"}},
      {"sharpen", {"in.png", "-o", "o.png"}},
      {"shape", {"CONV3-4", "--input", "8x8x1"}},
      {"receptive-field", {"--layers", "3", "--kernel", "3"}},
      {"train", {"--data", "no-such-data", "--arch", "FLATTEN FC-2", "-o", "o.ckpt"}},
      {"eval", {"-m", "no-such.ckpt"}},
      {"predict", {"-m", "no-such.ckpt", "in.png"}},
      {"normalize", {"s.txt", "-o", "o.txt"}},
      {"plot", {"s.txt", "-o", "o.png"}},
  };
  const std::vector<std::string> commands = subcommands_from_help();
  REQUIRE(commands.size() >= 15);
  std::map<std::string, std::map<std::string, bool>> numeric;
  for (const auto& command : commands) {
    CAPTURE(command);
    REQUIRE(base.count(command) == 1);  // a new command needs its base arguments here
    numeric[command] = numeric_options_from_help(command);
  }
  // The help parsing finds what it must (so an empty list cannot pass).
  for (const auto& [command, option] :
       std::vector<std::pair<std::string, std::string>>{{"train", "--epochs"},
                                                        {"train", "--lr"},
                                                        {"train", "--val-split"},
                                                        {"train", "--seed"},
                                                        {"train", "--momentum"},
                                                        {"eval", "--batch"},
                                                        {"predict", "--top"},
                                                        {"normalize", "--eps"},
                                                        {"normalize", "--bins"},
                                                        {"sample", "--count"},
                                                        {"sample", "--seed"},
                                                        {"blur", "--sigma"},
                                                        {"blur", "--jobs"},
                                                        {"convolve", "--offset"},
                                                        {"shape", "--batch"},
                                                        {"plot", "--origin"},
                                                        {"signal", "--ratio"},
                                                        {"receptive-field", "--stride"}}) {
    CAPTURE(command);
    CAPTURE(option);
    CHECK(numeric[command].count(option) == 1);
  }
  int runs = 0;
  for (const auto& [command, options] : numeric) {
    for (const auto& [option, whole] : options) {
      // The base arguments without the option under test (and its value).
      std::vector<std::string> args = {command};
      const auto& b = base.at(command);
      for (std::size_t i = 0; i < b.size(); ++i) {
        if (b[i] == option) {
          ++i;
          continue;
        }
        args.push_back(b[i]);
      }
      std::vector<std::string> bad_values = {"nan", "inf", "-inf", "1e400"};
      if (whole) bad_values.push_back("99999999999999999999999");  // past 64 bits
      for (const auto& bad : bad_values) {
        std::vector<std::string> a = args;
        a.push_back(option);
        a.push_back(bad);
        std::string line;
        for (const auto& w : a) line += w + " ";
        CAPTURE(line);
        auto r = run_convkit(a, "", dir);
        ++runs;
        CHECK(r.status == 2);
        CHECK(one_printable_error_line(r));
        CHECK(r.err.find(option + ": '") != std::string::npos);
        CHECK((r.err.find("is not a finite number; give ") != std::string::npos ||
               r.err.find("is out of range; give ") != std::string::npos ||
               r.err.find("is not allowed; give ") != std::string::npos));
        CHECK(r.err.size() < 200);
        CHECK_FALSE(fs::exists(dir + "/o.png"));
        CHECK_FALSE(fs::exists(dir + "/o.txt"));
        CHECK_FALSE(fs::exists(dir + "/o.ckpt"));
        for (const char* o : {"/o.png", "/o.txt", "/o.ckpt"}) fs::remove(dir + o);
      }
    }
  }
  CHECK(runs > 150);
}

TEST_CASE("[cli] training options out of their range are refused naming the option and range") {
  const std::string dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", random_grey(8, 8, 2)));
  write_file(dir + "/s.txt", "1\n2\n3\n");
  const std::vector<std::string> train = {"train",        "--data", "synthetic-edges", "--arch",
                                          "FLATTEN FC-3", "-o",     "o.ckpt"};
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  auto with = [](std::vector<std::string> a, const std::string& opt, const std::string& v) {
    a.push_back(opt);
    a.push_back(v);
    return a;
  };
  const std::vector<Case> cases = {
      {with(train, "--val-split", "1.5"),
       "--val-split: '1.5' is out of range; give a number from 0 to 0.9"},
      {with(train, "--epochs", "0"),
       "--epochs: '0' is out of range; give a whole number from 1 to 100000"},
      {with(train, "--batch", "0"),
       "--batch: '0' is out of range; give a whole number from 1 to 65536"},
      {with(train, "--lr", "0"), "--lr: '0' is out of range; give a number greater than 0"},
      {with(train, "--momentum", "1"),
       "--momentum: '1' is out of range; give a number from 0 to less than 1"},
      {with(train, "--weight-decay", "-0.1"),
       "--weight-decay: '-0.1' is out of range; give a number from 0 to 1"},
      {with(train, "--gamma", "2"), "--gamma: '2' is out of range; give a number from 0 to 1"},
      {with(train, "--step-epochs", "0"),
       "--step-epochs: '0' is out of range; give a whole number from 1"},
      {with(train, "--warmup-epochs", "-1"),
       "--warmup-epochs: '-1' is out of range; give a whole number from 0"},
      {with(train, "--seed", "-1"), "--seed: '-1' is out of range; give a whole number from 0"},
      {with(train, "--epochs", "2.5"), "--epochs: '2.5' is not a whole number"},
      {{"eval", "-m", "x.ckpt", "--batch", "0"},
       "--batch: '0' is out of range; give a whole number from 1 to 65536"},
      {{"predict", "-m", "x.ckpt", "in.png", "--top", "0"},
       "--top: '0' is out of range; give a whole number from 1 to 100000"},
      {{"normalize", "s.txt", "-o", "o.txt", "--width", "10"},
       "--width: '10' is out of range; give a whole number from 64 to 8192"},
      {{"normalize", "s.txt", "-o", "o.txt", "--height", "9000"},
       "--height: '9000' is out of range; give a whole number from 48 to 8192"},
      {{"normalize", "s.txt", "-o", "o.txt", "--bins", "0"},
       "--bins: '0' is out of range; give a whole number from 1 to 1000"},
      {{"normalize", "s.txt", "-o", "o.txt", "--eps", "-1"},
       "--eps: '-1' is out of range; give a number of at least 0"},
      {{"normalize", "s.txt", "-o", "o.txt", "--gamma", "nan"}, "--gamma"},
      {{"normalize", "s.txt", "-o", "o.txt", "--beta", "1,inf"}, "--beta"},
      {{"sample", "gaussian", "-o", "o.txt", "--count", "0"},
       "--count: '0' is out of range; give a whole number from 1"},
      {{"sample", "gaussian", "-o", "o.txt", "--seed", "-3"},
       "--seed: '-3' is out of range; give a whole number from 0"},
      {{"sample", "gaussian", "-o", "o.txt", "--mean", "0,nan"}, "--mean"},
  };
  for (const auto& c : cases) {
    std::string line;
    for (const auto& w : c.args) line += w + " ";
    CAPTURE(line);
    auto r = run_convkit(c.args, "", dir);
    CHECK(r.status == 2);
    CHECK(one_printable_error_line(r));
    CHECK(r.err.find(c.expected) != std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/o.ckpt"));
    CHECK_FALSE(fs::exists(dir + "/o.txt"));
  }
}

TEST_CASE("[cli] an out-of-range whole-number option names its range in words") {
  const std::string dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", random_grey(8, 8, 3)));
  auto r = run_convkit({"blur", "in.png", "--size", "0", "-o", "o.png"}, "", dir);
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("--size: '0' is out of range; give a whole number from 1 to 4095") !=
        std::string::npos);
  r = run_convkit({"convolve", "in.png", "[1]", "--bit-depth", "nan", "-o", "o.png"}, "", dir);
  CHECK(r.status == 2);
  CHECK(r.err.find("--bit-depth: 'nan' is not allowed; give 8, 16, 32 or 64") != std::string::npos);
  r = run_convkit({"blur", "in.png", "--size", "2.5", "-o", "o.png"}, "", dir);
  CHECK(r.status == 2);
  CHECK(r.err.find("'2.5' is not a whole number") != std::string::npos);
}

TEST_CASE("[cli] blur --sigma 1e-200 is the identity blur, not an engine message") {
  const std::string dir = temp_dir();
  const cv::Mat in = random_grey(9, 11, 4);
  REQUIRE(cv::imwrite(dir + "/in.png", in));
  auto r = run_convkit({"blur", "in.png", "--sigma", "1e-200", "-o", "out.png"}, "", dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const cv::Mat out = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED);
  REQUIRE(out.size() == in.size());
  CHECK(cv::norm(in, out, cv::NORM_INF) == 0);
}

TEST_CASE("[cli] --offset is in the output's units when 8-bit input is written as 16-bit") {
  const std::string dir = temp_dir();
  const cv::Mat in = random_grey(6, 7, 5, 128);
  REQUIRE(cv::imwrite(dir + "/in.png", in));
  // Kernel [-1]: the result is -v, which --offset 32768 moves to mid-grey of a 16-bit file.
  auto r = run_convkit(
      {"convolve", "in.png", "[-1]", "--bit-depth", "16", "--offset", "32768", "-o", "out.png"}, "",
      dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const cv::Mat out = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED);
  REQUIRE(out.type() == CV_16UC1);
  REQUIRE(out.size() == in.size());
  for (int y = 0; y < in.rows; ++y)
    for (int x = 0; x < in.cols; ++x) {
      const int v = in.at<unsigned char>(y, x);
      CAPTURE(v);
      // -v in 16-bit units is -257 v; plus 32768.
      CHECK(out.at<unsigned short>(y, x) == 32768 - 257 * v);
    }
}

TEST_CASE("[cli] convolve on a binary file says it is not a text matrix or a supported image") {
  const std::string dir = temp_dir();
  // A GIF header (TIFF, which this test used before, is read now).
  std::string gif("GIF8\0\x08\0\0\x10\x00\xff\xfe", 12);
  gif += std::string(100, '\0');
  write_file(dir + "/grey.gif", gif);
  auto r = run_convkit({"convolve", "grey.gif", "identity"}, "", dir);
  CHECK(r.status == 1);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("grey.gif: not a text matrix or a supported image") != std::string::npos);
  CHECK(r.err.find("GIF8\\x00\\x08") != std::string::npos);  // escapes, past the NUL
  // The same bytes as a kernel file.
  r = run_convkit({"convolve", "[1 2 3]", "grey.gif"}, "", dir);
  CHECK(r.status == 1);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("grey.gif: not a text matrix or signal") != std::string::npos);
}

TEST_CASE("[cli] unknown commands and top-level options get a did-you-mean") {
  auto r = run_convkit({"blurr", "x.png"});
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("unknown command 'blurr'; did you mean 'blur'?") != std::string::npos);
  r = run_convkit({"--versio"});
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("did you mean '--version'?") != std::string::npos);
  r = run_convkit({"blur", "in.png", "--sigm", "2", "-o", "o.png"});
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("did you mean '--sigma'") != std::string::npos);
  r = run_convkit({"help", "convolv"});
  CHECK(r.status == 2);
  CHECK(r.err.find("did you mean 'convolve'?") != std::string::npos);
}

TEST_CASE("[cli] convkit help CMD prints CMD's help and convkit help the program's") {
  auto h = run_convkit({"help", "blur"});
  auto b = run_convkit({"blur", "--help"});
  CHECK(h.status == 0);
  CHECK(b.status == 0);
  CHECK(h.out == b.out);
  CHECK(h.out.find("--sigma") != std::string::npos);
  auto all = run_convkit({"help"});
  CHECK(all.status == 0);
  CHECK(all.out == run_convkit({"--help"}).out);
  CHECK(all.out.find("receptive-field") != std::string::npos);
}

TEST_CASE("[cli] convolve --pad 100000 names the size it would need and the limit it passes") {
  auto r = run_convkit({"convolve", "[1 2; 3 4]", "[1]", "--pad", "100000"});
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("--pad '100000'") != std::string::npos);
  CHECK(r.err.find("200002 x 200002 = 40000800004 values") != std::string::npos);
  CHECK(r.err.find("limit of 268435456 (--max-pixels") != std::string::npos);
  // Past the engine's limit per axis (also for a signal).
  for (const char* input : {"[1 2; 3 4]", "[1 2]"}) {
    r = run_convkit({"convolve", input, "[1]", "--pad", "1000000000"});
    CHECK(r.status == 2);
    CHECK(one_printable_error_line(r));
    CHECK(r.err.find("2000000002, more than the limit of 1073741824 samples along an axis") !=
          std::string::npos);
  }
  // A lowered limit is named too.
  r = run_convkit({"convolve", "[1 2; 3 4]", "[1]", "--pad", "3", "--max-pixels", "10"});
  CHECK(r.status == 2);
  CHECK(r.err.find("8 x 8 = 64 values per channel, over the limit of 10") != std::string::npos);
}

TEST_CASE("[cli] an error quoting a 1 MB bad token cuts it with an ellipsis") {
  // A file holds 1 MB; one command-line argument can hold at most 128 KiB.
  const std::string huge(100000, 'x');
  const std::string dir = temp_dir();
  write_file(dir + "/m.txt", "1 2 " + std::string(1 << 20, 'x') + "\n");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"convolve", "[1 2 " + huge + "]", "[1]"},
                                             {"convolve", "m.txt", "[1]"},
                                             {"convolve", "[1 2]", "[1 " + huge + "]"},
                                             {"blur", "x.png", "--sigma", huge},
                                             {"convolve", "[1 2]", "[1]", "--stride", huge}}) {
    auto r = run_convkit(args, "", dir);
    CAPTURE(r.err.substr(0, 300));
    CHECK(r.status == 2 - (args[1] == "m.txt"));
    CHECK(one_printable_error_line(r));
    CHECK(r.err.size() < 1000);
    CHECK(r.err.find("xxx...") != std::string::npos);
  }
}

TEST_CASE("[cli] convolve -o m.csv writes comma-separated values that read back") {
  const std::string dir = temp_dir();
  auto r = run_convkit(
      {"convolve", "[1 2 3 4 5; 6 7 8 9 10; 11 12 13 14 15; 16 17 18 19 20; 21 22 23 24 25]",
       "[-1 -2 -1; 0 0 0; 1 2 1]", "-o", "m.csv"},
      "", dir);
  REQUIRE(r.status == 0);
  CHECK(read_file(dir + "/m.csv") == "-40,-40,-40\n-40,-40,-40\n-40,-40,-40\n");
  // A signal: "n,value" rows, which convolve reads back with its indices.
  r = run_convkit({"convolve", "[1 1]", "[1 1]", "--origin", "-3", "-o", "s.csv"}, "", dir);
  REQUIRE(r.status == 0);
  CHECK(read_file(dir + "/s.csv") == "-3,1\n-2,2\n-1,1\n");
  r = run_convkit({"convolve", "s.csv", "[1]"}, "", dir);
  REQUIRE(r.status == 0);
  CHECK(r.out == "# n value\n-3 1\n-2 2\n-1 1\n");
  r = run_convkit({"signal", "rect", "--length", "2", "--shift", "-1", "-o", "r.csv"}, "", dir);
  REQUIRE(r.status == 0);
  CHECK(read_file(dir + "/r.csv") == "-1,1\n0,1\n");
}

TEST_CASE("[cli] image data written as text prints each float32 in its shortest round-trip form") {
  const std::string dir = temp_dir();
  const cv::Mat in = random_grey(5, 6, 6);
  REQUIRE(cv::imwrite(dir + "/in.png", in));
  auto r = run_convkit({"convolve", "in.png", "[0.1]", "-o", "out.txt"}, "", dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::istringstream text(read_file(dir + "/out.txt"));
  int count = 0;
  std::string tok;
  while (text >> tok) {
    const int y = count / in.cols, x = count % in.cols;
    CAPTURE(tok);
    const float want = static_cast<float>(in.at<unsigned char>(y, x)) * 0.1f;
    float got = 0;
    auto res = std::from_chars(tok.data(), tok.data() + tok.size(), got);
    REQUIRE(res.ec == std::errc());
    CHECK(got == want);
    // Shortest: no representation with fewer significant digits reads back to it.
    char shortest[32];
    auto s = std::to_chars(shortest, shortest + sizeof shortest, want);
    CHECK(tok == std::string(shortest, s.ptr));
    ++count;
  }
  CHECK(count == in.rows * in.cols);
}

TEST_CASE("[cli] receptive-field refuses a window layer after FC like shape does") {
  auto rf = run_convkit({"receptive-field", "FC-10 CONV3"});
  auto sh = run_convkit({"shape", "FC-10 CONV3", "--input", "8x8x1"});
  CHECK(sh.status == 2);
  CHECK(rf.status == 2);
  CHECK(rf.err.rfind("convkit: error: ", 0) == 0);
  CHECK(rf.err.find("CONV3") != std::string::npos);
  CHECK(rf.err.find("flat vector") != std::string::npos);
  CHECK(run_convkit({"receptive-field", "CONV3 FC-10"}).status == 0);
  CHECK(run_convkit({"receptive-field", "CONV3 GAP CONV1"}).status == 0);
}

TEST_CASE("[cli] receptive-field --stride without --layers is refused, not ignored") {
  auto r = run_convkit({"receptive-field", "CONV3 CONV3", "--stride", "2"});
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("--stride") != std::string::npos);
  CHECK(r.err.find("--layers") != std::string::npos);
  CHECK(
      run_convkit({"receptive-field", "--layers", "2", "--kernel", "3", "--stride", "2"}).status ==
      0);
}

TEST_CASE("[cli] plot warns on stderr when values are nan or infinite") {
  const std::string dir = temp_dir();
  write_file(dir + "/s.txt", "1\nnan\n2\ninf\n");
  auto r = run_convkit({"plot", "s.txt", "--ascii"}, "", dir);
  CHECK(r.status == 0);
  CHECK(r.err.find("convkit: warning: s.txt: 2 values are not a finite number (the first, nan, "
                   "at n=1)") != std::string::npos);
  write_file(dir + "/ok.txt", "1\n2\n");
  CHECK(run_convkit({"plot", "ok.txt", "--ascii"}, "", dir).err.empty());
}

TEST_CASE("[cli] a ragged inline kernel is a usage error like an unknown kernel name") {
  auto ragged = run_convkit({"convolve", "[1 2 3]", "[1 2; 3]"});
  auto unknown = run_convkit({"convolve", "[1 2 3]", "no-such-filter"});
  CHECK(unknown.status == 2);
  CHECK(ragged.status == 2);
  CHECK(one_printable_error_line(ragged));
  CHECK(ragged.err.find("ragged") != std::string::npos);
  auto bad_input = run_convkit({"convolve", "[1 2; 3]", "[1]"});
  CHECK(bad_input.status == 2);
}

TEST_CASE("[cli] signal geometric --ratio nan says it is not a finite number") {
  auto r = run_convkit({"signal", "geometric", "--ratio", "nan"});
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("--ratio: 'nan' is not a finite number") != std::string::npos);
  CHECK(r.err.find("grows") == std::string::npos);
}

TEST_CASE("[cli] convolve - - (both from standard input) is a usage error") {
  auto r = run_convkit({"convolve", "-", "-"}, "1 2 3\n");
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("standard input") != std::string::npos);
}

TEST_CASE("[cli] -o on a symbolic link writes through the link to its target") {
  const std::string dir = temp_dir();
  fs::create_directories(dir + "/a");
  fs::create_directories(dir + "/b");
  write_file(dir + "/b/target.txt", "old\n");
  fs::create_symlink("../b/target.txt", dir + "/a/link.txt");  // relative, from the link's dir
  fs::create_symlink("a/link.txt", dir + "/chain.txt");        // a chain of two links
  auto r = run_convkit({"convolve", "[1 2]", "[1]", "-o", "chain.txt"}, "", dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(fs::is_symlink(dir + "/chain.txt"));
  CHECK(fs::is_symlink(dir + "/a/link.txt"));
  CHECK(read_file(dir + "/b/target.txt") == "# n value\n0 1\n1 2\n");
  // A dangling link: the target is created.
  fs::create_symlink("new.txt", dir + "/dangling.txt");
  r = run_convkit({"signal", "impulse", "-o", "dangling.txt"}, "", dir);
  REQUIRE(r.status == 0);
  CHECK(fs::is_symlink(dir + "/dangling.txt"));
  CHECK(read_file(dir + "/new.txt") == "# n value\n0 1\n");
  // Images through the same path.
  REQUIRE(cv::imwrite(dir + "/in.png", random_grey(4, 4, 7)));
  fs::create_symlink("b/img.png", dir + "/img.png");
  r = run_convkit({"blur", "in.png", "-o", "img.png"}, "", dir);
  REQUIRE(r.status == 0);
  CHECK(fs::is_symlink(dir + "/img.png"));
  CHECK(fs::is_regular_file(dir + "/b/img.png"));
}

TEST_CASE("[cli] moving-average and central-difference are centred as their descriptions say") {
  const std::string dir = temp_dir();
  // An impulse at n = 0 gives back the kernel at its own indices.
  auto ma = parse_pairs(run_convkit({"convolve", "[1]", "moving-average"}).out);
  REQUIRE(ma.size() == 5);
  CHECK(ma.begin()->first == -2);
  CHECK(ma.rbegin()->first == 2);
  auto ma3 = parse_pairs(run_convkit({"convolve", "[1]", "moving-average-3"}).out);
  REQUIRE(ma3.size() == 3);
  CHECK(ma3.begin()->first == -1);
  // y[n] = (x[n+1] - x[n-1]) / 2 on x[n] = n^2 (n = 0..5): 2n inside.
  auto cd = parse_pairs(run_convkit({"convolve", "[0 1 4 9 16 25]", "central-difference"}).out);
  for (long long n = 1; n <= 4; ++n) {
    CAPTURE(n);
    CHECK(cd.at(n) == 2.0 * n);
  }
}

TEST_CASE("[cli] scipy's padding names are aliases, and a misspelt one gets a suggestion") {
  const std::string m = "[1 2 3 4; 5 6 7 8; 9 10 11 12]";
  auto same = [&](const std::string& a, const std::string& b) {
    auto ra = run_convkit({"convolve", m, "[1 2 0; 0 1 3; 1 0 1]", "--pad", "1", "--padding", a});
    auto rb = run_convkit({"convolve", m, "[1 2 0; 0 1 3; 1 0 1]", "--pad", "1", "--padding", b});
    CAPTURE(a);
    CHECK(ra.status == 0);
    CHECK(rb.status == 0);
    CHECK(ra.out == rb.out);
    return ra.out;
  };
  const std::string reflect = same("mirror", "reflect");
  const std::string symmetric = same("symmetric", "symmetric");
  CHECK(reflect != symmetric);  // scipy's reflect is our symmetric, not our reflect
  same("nearest", "replicate");
  same("wrap", "circular");
  same("constant", "zero");
  auto r = run_convkit({"convolve", m, "[1]", "--pad", "1", "--padding", "mirorr"});
  CHECK(r.status == 2);
  CHECK(one_printable_error_line(r));
  CHECK(r.err.find("did you mean 'mirror'?") != std::string::npos);
}

TEST_CASE("[cli] flags that would do nothing are refused: signal, plot and convolve") {
  const std::string dir = temp_dir();
  write_file(dir + "/s.txt", "1\n2\n3\n");
  REQUIRE(cv::imwrite(dir + "/in.png", random_grey(4, 4, 8)));
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"signal", "rect", "--length", "3", "--amplitude", "2"}, "--amplitude"},
      {{"signal", "noise", "--length", "3", "--phase", "1"}, "--phase"},
      {{"signal", "sine", "--length", "3", "--freq", "0.1", "--seed", "4"}, "--seed"},
      {{"plot", "s.txt", "--width", "300"}, "--width"},
      {{"plot", "s.txt", "--ylabel", "y"}, "--ylabel"},
      {{"plot", "s.txt", "-o", "p.png", "--ascii"}, "--ascii"},
      {{"plot", "s.txt", "-o", "p.png", "--columns", "50"}, "--columns"},
      {{"convolve", "s.txt", "[1 1]", "--bit-depth", "16"}, "--bit-depth"},
      {{"convolve", "[1 2; 3 4]", "[1]", "-o", "m.txt", "--bit-depth", "8"}, "--bit-depth"},
      {{"convolve", "[1 2; 3 4]", "[1]", "--filter-alpha"}, "--filter-alpha"},
  };
  for (const auto& [args, flag] : cases) {
    CAPTURE(flag);
    auto r = run_convkit(args, "", dir);
    CHECK(r.status == 2);
    CHECK(one_printable_error_line(r));
    CHECK(r.err.find(flag) != std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK_FALSE(fs::exists(dir + "/p.png"));
  CHECK_FALSE(fs::exists(dir + "/m.txt"));
  // The same flags where they act.
  CHECK(
      run_convkit({"signal", "noise", "--length", "3", "--amplitude", "2", "--seed", "4"}, "", dir)
          .status == 0);
  CHECK(run_convkit({"plot", "s.txt", "--ascii", "--columns", "50"}, "", dir).status == 0);
  CHECK(run_convkit({"convolve", "in.png", "[1]", "-o", "o.png", "--bit-depth", "16"}, "", dir)
            .status == 0);
}

TEST_CASE(
    "[cli] every command given binary data where it reads a file names it in printable text") {
  const std::string dir = temp_dir();
  std::string bin("GIF8\0\x08\0\0\x1b[31m\xff\xfe\n\r", 17);
  bin += std::string(200, '\0');
  write_file(dir + "/bin.dat", bin);
  const std::vector<std::vector<std::string>> commands = {
      {"convolve", "bin.dat", "[1]", "-o", "out.txt"},
      {"convolve", "[1 2 3]", "bin.dat", "-o", "out.txt"},
      {"blur", "bin.dat", "-o", "out.png"},
      {"edge", "bin.dat", "-o", "out.png"},
      {"plot", "bin.dat", "-o", "out.png"},
      {"filters", "bin.dat"},
      {"shape", "--arch-file", "bin.dat", "-i", "8x8x1"},
      {"receptive-field", "--arch-file", "bin.dat"},
      {"normalize", "bin.dat", "-o", "out.txt"},
  };
  for (const auto& args : commands) {
    CAPTURE(args[0] + " " + args[1] + " " + args[2]);
    auto r = run_convkit(args, "", dir);
    CHECK((r.status == 1 || r.status == 2));
    CHECK(r.err.rfind("convkit: error: ", 0) == 0);
    CHECK(r.err.find("bin.dat") != std::string::npos);
    for (char c : r.err) {
      const auto u = static_cast<unsigned char>(c);
      CHECK((u == '\n' || (u >= 0x20 && u < 0x7F)));
    }
    // Not cut at the first NUL: the bytes after it are shown as escapes.
    if (args[0] != "blur" && args[0] != "edge" && args[0] != "shape" &&
        args[0] != "receptive-field")
      CHECK(r.err.find("\\x00") != std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/out.txt"));
    CHECK_FALSE(fs::exists(dir + "/out.png"));
  }
}
