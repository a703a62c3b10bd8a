// [cli] reads before the format is known are bounded: /dev/zero and endless
// pipes are refused after their first bytes, never read into memory whole.
// Every run is under a 1 GiB address-space limit and an alarm, so a
// regression fails here instead of hanging or eating the machine's memory.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "convkit/io/npy.hpp"
#include "support/run.hpp"

using convkit::test::is_one_error_line;
using convkit::test::run_convkit_limited;
using convkit::test::RunLimits;
using convkit::test::RunResult;
using convkit::test::temp_dir;
using convkit::test::write_file;
namespace fs = std::filesystem;

TEST_CASE("[cli] /dev/zero and an endless pipe of zeros are refused early by every reader") {
  if (!fs::exists("/dev/zero")) return;
  const std::string dir = temp_dir();
  write_file(dir + "/x.txt", "1\n2\n3\n");
  struct Case {
    std::vector<std::string> args;
    bool endless_zeros;  // stdin is an endless pipe of zeros
    std::string named;   // the input the message names
    std::string says;    // and what it says
  };
  const std::vector<Case> cases = {
      {{"convolve", "/dev/zero", "[1]", "-o", "o.txt"}, false, "/dev/zero", "binary data"},
      {{"convolve", "-", "[1]", "-o", "o.txt"}, true, "<stdin>", "binary data"},
      {{"convolve", "x.txt", "-", "-o", "o.txt"}, true, "<stdin>", "binary data"},
      {{"plot", "/dev/zero", "-o", "o.png"}, false, "/dev/zero", "binary data"},
      {{"plot", "-", "-o", "o.png"}, true, "<stdin>", "binary data"},
      {{"normalize", "/dev/zero", "-o", "o.txt"}, false, "/dev/zero", "binary data"},
      {{"normalize", "-", "-o", "o.txt"}, true, "<stdin>", "binary data"},
      {{"blur", "/dev/zero", "-o", "o.png"}, false, "/dev/zero", "not an image"},
      {{"blur", "-", "-o", "o.png"}, true, "<stdin>", "not an image"},
      {{"edge", "-", "-o", "o.png"}, true, "<stdin>", "not an image"},
      {{"shape", "--arch-file", "/dev/zero", "-i", "8x8x1"}, false, "/dev/zero", "16 MiB"},
      {{"receptive-field", "--arch-file", "/dev/zero"}, false, "/dev/zero", "16 MiB"},
  };
  for (const auto& c : cases) {
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    CAPTURE(line);
    RunLimits limits;
    if (c.endless_zeros) limits.endless_input = std::string(1, '\0');
    const RunResult r = run_convkit_limited(c.args, limits, dir);
    CAPTURE(r.err);
    CHECK((r.status == 1 || r.status == 2));
    CHECK(is_one_error_line(r));
    CHECK(r.err.find(c.named) != std::string::npos);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/o.txt"));
    CHECK_FALSE(fs::exists(dir + "/o.png"));
  }
}

TEST_CASE("[cli] an endless pipe of text is refused at the 256 MiB stream limit") {
  const std::string dir = temp_dir();
  write_file(dir + "/x.txt", "1\n2\n3\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"convolve", "-", "[1]", "-o", "o.txt"},
        std::vector<std::string>{"convolve", "x.txt", "-", "-o", "o.txt"},
        std::vector<std::string>{"plot", "-", "-o", "o.png"}}) {
    std::string line;
    for (const auto& a : args) line += a + " ";
    CAPTURE(line);
    RunLimits limits;
    limits.endless_input = "1 2 3 4 5 6 7\n";
    const RunResult r = run_convkit_limited(args, limits, dir);
    CHECK(r.status == 1);
    CHECK(is_one_error_line(r));
    CHECK(r.err.find("<stdin>: more than 256 MiB of text from a pipe or device") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(dir + "/o.txt"));
    CHECK_FALSE(fs::exists(dir + "/o.png"));
  }
}

TEST_CASE("[cli] a .npy on a pipe is read only as far as its header declares") {
  const std::string dir = temp_dir();
  // A 2x2 float64 header followed by zeros without end: the 32 declared bytes
  // are read and the byte after them shows trailing data, so the read stops.
  const std::string header = convkit::npy_header({2, 2}, convkit::NpyType::f8);
  RunLimits limits;
  limits.endless_input = header + std::string(65536 - header.size(), '\0');
  const RunResult r = run_convkit_limited({"convolve", "-", "[1]", "-o", "o.txt"}, limits, dir);
  CAPTURE(r.err);
  CHECK(r.status == 1);
  CHECK(is_one_error_line(r));
  CHECK(r.err.find("<stdin>") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/o.txt"));
}
