// [filters] resolving a kernel argument: literal, file, library name.
#include <doctest/doctest.h>

#include <cstdlib>

#include "convkit/error.hpp"
#include "convkit/filters.hpp"
#include "support/run.hpp"

using namespace convkit;

namespace {
struct FiltersDir {
  std::string dir = convkit::test::temp_dir();
  FiltersDir() {
    convkit::test::write_file(dir + "/sobel-x.txt",
                              "# Sobel derivative along x\n-1 0 1\n-2 0 2\n-1 0 1\n");
    convkit::test::write_file(dir + "/box3.txt", "# 3x3 box\n1 1 1\n1 1 1\n1 1 1\n");
    setenv("CONVKIT_FILTERS_DIR", dir.c_str(), 1);
  }
  ~FiltersDir() { unsetenv("CONVKIT_FILTERS_DIR"); }
};
}  // namespace

TEST_CASE("[filters] a kernel is a literal, a file or a name, and typos get suggestions") {
  FiltersDir fd;
  Kernel lit = load_kernel("[1 2 1]");
  CHECK(lit.rows == 1);
  CHECK(lit.cols == 3);
  Kernel named = load_kernel("sobel-x");
  CHECK(named.rows == 3);
  CHECK(named.data[2] == 1);
  CHECK(named.description == "Sobel derivative along x");
  const std::string file = convkit::test::temp_dir() + "/h.txt";
  convkit::test::write_file(file, "# n value\n-1 0.5\n0 1\n1 0.5\n");
  Kernel sig = load_kernel(file);
  CHECK(sig.rows == 1);
  CHECK(sig.cols == 3);
  CHECK(sig.origin == -1);
  CHECK(sig.indexed);
  auto all = list_filters();
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "box3");
  CHECK(all[1].description == "Sobel derivative along x");
  CHECK_THROWS_WITH_AS(load_kernel("sobelx"), doctest::Contains("did you mean 'sobel-x'"),
                       UsageError);
  CHECK_THROWS_WITH_AS(load_kernel("sobl"), doctest::Contains("did you mean 'sobel-x'"),
                       UsageError);
  CHECK_THROWS_WITH_AS(load_kernel("zzzzzzzz"), doctest::Contains("unknown kernel 'zzzzzzzz'"),
                       UsageError);
  CHECK_THROWS_AS(load_kernel("[1 2; 3]"), UsageError);  // part of the command line
  CHECK_THROWS_AS(load_kernel("../etc/passwd-not-a-filter"), UsageError);
}
