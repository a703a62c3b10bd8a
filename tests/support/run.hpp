// tests/support/run.hpp — run the real convkit binary from a test.
#pragma once

#include <string>
#include <utility>
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

/// Bounds for a run that must stop early: address space (RLIMIT_AS) and
/// seconds (SIGALRM, status 128+14), so a regression that reads without end
/// fails the test instead of hanging it or eating the machine's memory.
struct RunLimits {
  unsigned long memory_bytes = 1UL << 30;
  unsigned seconds = 120;
  /// When not empty, stdin is a pipe that repeats this text without end.
  std::string endless_input;
};

/// Run `convkit args...` under `limits` (not applied under CONVKIT_TEST_WRAPPER).
RunResult run_convkit_limited(const std::vector<std::string>& args, const RunLimits& limits,
                              const std::string& cwd = "");

/// Exactly one line on stderr, "convkit: error: ...", every byte printable ASCII.
bool is_one_error_line(const RunResult& r);

/// Path of a file in the source tree, e.g. source_path("data/x.txt").
std::string source_path(const std::string& rel);

/// A fresh empty directory for one test (removed at exit).
std::string temp_dir();

/// The options of a `convkit CMD --help` text that take a number: each long
/// name with the type CLI11 prints after it (FLOAT, INT or UINT).
std::vector<std::pair<std::string, std::string>> numeric_options_in_help(const std::string& help);
/// Every name of every option in a `convkit ... --help` text ("-o", "--output", ...).
std::vector<std::string> option_names_in_help(const std::string& help);
/// The commands `convkit --help` lists under "Subcommands:".
std::vector<std::string> commands_in_help(const std::string& help);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

}  // namespace convkit::test
