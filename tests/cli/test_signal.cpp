// [signal] the standard signals, through the binary.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "convkit/io/npy.hpp"
#include "support/run.hpp"

using convkit::test::run_convkit;
using convkit::test::temp_dir;

namespace {
// The text after the "# n value" header line.
std::string body(const std::string& s) {
  REQUIRE(s.rfind("# n value\n", 0) == 0);
  return s.substr(10);
}
}  // namespace

TEST_CASE("[signal] rect, shift, impulse, step and geometric print 'n value' lines") {
  CHECK(run_convkit({"signal", "rect", "--length", "3"}).out == "# n value\n0 1\n1 1\n2 1\n");
  CHECK(run_convkit({"signal", "boxcar", "-L", "2", "--shift", "5"}).out ==
        "# n value\n5 1\n6 1\n");
  CHECK(run_convkit({"signal", "rect", "--length", "2", "--range", "-1:3"}).out ==
        "# n value\n-1 0\n0 1\n1 1\n2 0\n3 0\n");
  CHECK(run_convkit({"signal", "impulse", "--start", "-2", "--end", "1"}).out ==
        "# n value\n-2 0\n-1 0\n0 1\n1 0\n");
  CHECK(run_convkit({"signal", "step", "--range", "-1:1", "--shift", "1"}).out ==
        "# n value\n-1 0\n0 0\n1 1\n");
  CHECK(run_convkit({"signal", "geometric", "--ratio", "0.5", "--length", "4"}).out ==
        "# n value\n0 1\n1 0.5\n2 0.25\n3 0.125\n");
  CHECK(run_convkit({"signal", "geometric", "--ratio", "-2", "--length", "3"}).out ==
        "# n value\n0 1\n1 -2\n2 4\n");
  // Without --length, geometric runs until |a|^n < 2^-60.
  auto g = run_convkit({"signal", "geometric", "--ratio", "0.5"});
  CHECK(g.status == 0);
  CHECK(std::count(g.out.begin(), g.out.end(), '\n') == 61);
}

TEST_CASE("[signal] sine and noise") {
  auto s = run_convkit(
      {"signal", "sine", "--freq", "0.1", "--length", "5", "--amplitude", "2", "--phase", "0.5"});
  REQUIRE(s.status == 0);
  std::istringstream in(body(s.out));
  long long n;
  double v;
  int count = 0;
  while (in >> n >> v) {
    CHECK(n == count);
    CHECK(v == doctest::Approx(2 * std::sin(2 * std::numbers::pi * 0.1 * n + 0.5)).epsilon(1e-15));
    ++count;
  }
  CHECK(count == 5);
  auto a = run_convkit({"signal", "noise", "--length", "50", "--seed", "3"});
  auto b = run_convkit({"signal", "noise", "--length", "50", "--seed", "3"});
  auto c = run_convkit({"signal", "noise", "--length", "50", "--seed", "4"});
  CHECK(a.out == b.out);
  CHECK(a.out != c.out);
  // The value at each n does not depend on the window.
  auto w = run_convkit({"signal", "noise", "--range", "10:12", "--seed", "3"});
  CHECK(a.out.find(body(w.out)) != std::string::npos);
  std::istringstream na(body(a.out));
  double lo = 1, hi = -1;
  while (na >> n >> v) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= -1);
  CHECK(hi <= 1);
  CHECK(hi - lo > 1);
}

TEST_CASE("[signal] .npy output and usage errors") {
  const std::string dir = temp_dir();
  CHECK(run_convkit({"signal", "rect", "--length", "4", "-o", "r.npy"}, "", dir).status == 0);
  auto arr = convkit::read_npy(dir + "/r.npy");
  CHECK(arr.shape == std::vector<std::int64_t>{4});
  CHECK(arr.data == std::vector<double>{1, 1, 1, 1});
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"signal", "rect"},
                                             {"signal", "geometric"},
                                             {"signal", "geometric", "--ratio", "1.5"},
                                             {"signal", "step"},
                                             {"signal", "sine", "--length", "3"},
                                             {"signal", "rect", "--length", "0"},
                                             {"signal", "rect", "--length", "3", "--range", "5:1"},
                                             {"signal", "rect", "--length", "3", "--range", "x"},
                                             {"signal", "square", "--length", "3"}}) {
    CAPTURE(args[1]);
    auto r = run_convkit(args);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("convkit: error: ", 0) == 0);
    CHECK(r.out.empty());
  }
}

TEST_CASE("[signal] a one-sample signal file keeps its index (the '# n value' header)") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit({"signal", "impulse", "--shift", "2", "-o", "d.txt"}, "", dir).status == 0);
  // x = [3 1 4] from n=0 through delta(n-2): the same values from n=2.
  auto r = run_convkit({"convolve", "[3 1 4]", "d.txt"}, "", dir);
  CHECK(r.status == 0);
  CHECK(r.out == "# n value\n2 3\n3 1\n4 4\n");
}

TEST_CASE("[signal] .npy keeps a shifted signal's first index in its header, 0 is not written") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit({"signal", "rect", "--length", "3", "--shift", "-4", "-o", "s.npy"}, "", dir)
              .status == 0);
  const std::string bytes = convkit::test::read_file(dir + "/s.npy");
  // The origin is a comment after the dict (numpy.load skips it), inside the padded header.
  const std::size_t hl =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  const std::string header = bytes.substr(10, hl);
  CHECK(header.find("}  # convkit origin: -4") != std::string::npos);
  CHECK((10 + hl) % 64 == 0);
  CHECK(header.back() == '\n');
  auto arr = convkit::read_npy(dir + "/s.npy");
  CHECK(arr.origin == -4);
  CHECK(arr.data == std::vector<double>{1, 1, 1});
  REQUIRE(run_convkit({"signal", "rect", "--length", "3", "-o", "z.npy"}, "", dir).status == 0);
  CHECK(convkit::test::read_file(dir + "/z.npy").find("convkit") == std::string::npos);
  CHECK(convkit::read_npy(dir + "/z.npy").origin == 0);
  // The windowed form stores the window's first index.
  REQUIRE(run_convkit({"signal", "step", "--range", "-2:3", "-o", "w.npy"}, "", dir).status == 0);
  CHECK(convkit::read_npy(dir + "/w.npy").origin == -2);
}
