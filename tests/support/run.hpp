// tests/support/run.hpp — run the real convkit binary from a test.
#pragma once

#include <string>
#include <vector>

namespace convkit::test {

struct RunResult {
  int status = -1;       ///< exit status, or 128+signal if killed
  std::string out, err;  ///< everything written to stdout / stderr
};

/// Run `convkit args...` (no shell), feeding `input` on stdin; the working
/// directory is `cwd` when not empty.
RunResult run_convkit(const std::vector<std::string>& args, const std::string& input = "",
                      const std::string& cwd = "");

/// Path of a file in the source tree, e.g. source_path("data/x.txt").
std::string source_path(const std::string& rel);

/// A fresh empty directory for one test (removed at exit).
std::string temp_dir();

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

}  // namespace convkit::test
