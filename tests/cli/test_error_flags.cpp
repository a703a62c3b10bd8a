// [cli] library errors name the library's parameters; the command line shows
// them as its own flags (cli::error_text), whichever command reports them.
#include <doctest/doctest.h>

#include "support/run.hpp"

using convkit::test::run_convkit;

TEST_CASE("[cli] a library message's parameters are shown as the command's flags") {
  const std::string dir = convkit::test::temp_dir();
  convkit::test::write_file(dir + "/g.pgm", "P2\n2 2\n255\n0 50\n100 200\n");
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"blur", "g.pgm", "-o", "o.png", "--type", "box", "--sigma", "2"},
       "convkit: error: --sigma applies to --type gaussian, not box\n"},
      {{"edge", "g.pgm", "-o", "o.png", "--operator", "log", "--sigma2", "2"},
       "convkit: error: --sigma2 applies to --operator dog, not log\n"},
      {{"sample", "gaussian", "--mean", "0,0", "--std", "1", "--var", "1"},
       "convkit: error: give only one of --var, --std and --cov\n"},
      {{"sample", "uniform", "--mean", "0,0,0", "--low", "0,1"},
       "convkit: error: --low: give one value or 3 (one per column), not 2\n"},
      {{"signal", "rect"}, "convkit: error: rect needs --length L\n"},
      {{"signal", "step", "--seed", "3", "--length", "2"},
       "convkit: error: --seed applies to the noise signal\n"},
  };
  for (const auto& [args, want] : cases) {
    CAPTURE(args[0]);
    const auto r = run_convkit(args, "", dir);
    CHECK(r.status == 2);
    CHECK(r.err == want);
    CHECK(r.out.empty());
  }
}
