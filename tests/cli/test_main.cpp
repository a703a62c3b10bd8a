// [cli] the program's front door: version, help, unknown commands.
#include <doctest/doctest.h>

#include "support/run.hpp"

using convkit::test::run_convkit;

TEST_CASE("[cli] --version prints the version and exits 0") {
  auto r = run_convkit({"--version"});
  CHECK(r.status == 0);
  CHECK(r.out.find("convkit ") == 0);
}

TEST_CASE("[cli] an unknown command is a usage error with one line") {
  auto r = run_convkit({"no-such-command"});
  CHECK(r.status == 2);
  CHECK(r.err.rfind("convkit: error: ", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
}
