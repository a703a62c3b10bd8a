// [cli] JSON output names files exactly: a control character or a byte of
// invalid UTF-8 in a file name is escaped, never dropped.
#include <doctest/doctest.h>

#include <string>

#include "support/run.hpp"

using convkit::test::run_convkit;
using convkit::test::temp_dir;
using convkit::test::write_file;

TEST_CASE("[cli] predict --json escapes control characters in file names") {
  const std::string dir = temp_dir();
  REQUIRE(
      run_convkit({"train", "--data", "synthetic-edges", "--arch", "CONV2-3/circular ReLU GAP FC-3",
                   "--epochs", "1", "-o", dir + "/m.ckpt", "--threads", "2", "--quiet"})
          .status == 0);
  std::string pgm = "P5\n8 8\n255\n";
  for (int i = 0; i < 64; ++i) pgm += static_cast<char>(i % 8 == 3 ? 255 : 0);
  const std::string name = "tab\there\x01\xff.pgm";
  write_file(dir + "/" + name, pgm);
  const auto r = run_convkit({"predict", "-m", dir + "/m.ckpt", "--json", dir + "/" + name});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("tab\\there\\u0001\\udcff.pgm\"") != std::string::npos);
}
