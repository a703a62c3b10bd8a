// src/cli/command.hpp — how subcommands plug into main().
//
// Each file src/cli/<name>.cpp defines an options struct, a
//   void register_<name>(CLI::App& app)
// that declares the subcommand, its flags and help, and a run function that
// does the work through the library.  The file registers itself with
//   CONVKIT_COMMAND(<order>, register_<name>);
// and main() adds the commands in <order>, then parses.  Commands report
// failure by throwing convkit::Error (exit 1) or convkit::UsageError
// (exit 2), or by calling set_exit_status(1) when some of many inputs failed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "convkit/engine.hpp"

namespace convkit::cli {

using RegisterFn = void (*)(CLI::App&);

struct CommandEntry {
  int order;
  RegisterFn fn;
};

std::vector<CommandEntry>& command_registry();

struct CommandRegistrar {
  CommandRegistrar(int order, RegisterFn fn) { command_registry().push_back({order, fn}); }
};

/// Appended to every --padding help: the other libraries' names we accept.
inline constexpr const char* kPaddingAliases =
    ". Aliases: scipy's mirror (= reflect), nearest (= replicate), wrap (= circular), "
    "constant (= zero); numpy's edge, PyTorch's zeros. scipy's own 'reflect' repeats the edge "
    "sample: that is our symmetric. ROWS,COLS gives each axis its own mode, e.g. "
    "symmetric,constant for scipy's mode=('reflect', 'constant')";

/// --border-value V on a command with --padding: the value of the samples
/// outside the input under a constant (zero) border, scipy's cval.
void add_border_value_option(CLI::App* sub, std::optional<double>& value);
/// The border from --padding (MODE or ROWS,COLS) and --border-value; a value
/// with no constant axis is refused (UsageError naming both flags).
BorderRule border_from_flags(const std::string& padding, const std::optional<double>& value);

/// The text of an error as the command line shows it: the parameters a
/// library message names (convkit::param) spelt as the running command's
/// flags, "sigma" as "--sigma" and "sigma_y" as "--sigma-y".
std::string error_text(const std::exception& e);

/// The process exit status main() returns when no exception escapes.
void set_exit_status(int status);
int exit_status();

/// --threads N on a subcommand: sets the library's thread count before the
/// command runs (0 = all cores).
void add_threads_option(CLI::App* sub, int& threads);

/// Apply --threads (validated, >= 0).
void apply_threads(int threads);

/// --max-pixels N on a command that reads images: the largest width x height
/// accepted, checked from the header before any pixel memory is allocated.
void add_max_pixels_option(CLI::App* sub, long long& max_pixels);
/// Make it the limit of every image read from now on.
void apply_max_pixels(long long max_pixels);

}  // namespace convkit::cli

#define CONVKIT_CONCAT_INNER(a, b) a##b
#define CONVKIT_CONCAT(a, b) CONVKIT_CONCAT_INNER(a, b)
#define CONVKIT_COMMAND(order, fn)                                                             \
  static const ::convkit::cli::CommandRegistrar CONVKIT_CONCAT(convkit_registrar_, __LINE__) { \
    order, fn                                                                                  \
  }
