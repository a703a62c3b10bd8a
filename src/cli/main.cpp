// convkit: main() only registers the subcommands and parses; each subcommand
// lives in its own file in src/cli/.  Errors from the library arrive here as
// exceptions and leave as one line on stderr and an exit status:
//   0 success, 1 the work failed, 2 the command line was wrong.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <new>
#include <string>

#include "cli/command.hpp"
#include "convkit/error.hpp"
#include "convkit/io/image.hpp"
#include "convkit/parallel.hpp"

namespace convkit::cli {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> r;
  return r;
}

namespace {
int g_exit_status = 0;
}

void set_exit_status(int status) {
  g_exit_status = std::max(g_exit_status, status);
}
int exit_status() {
  return g_exit_status;
}

void add_threads_option(CLI::App* sub, int& threads) {
  sub->add_option("--threads", threads, "Worker threads (0 = all cores)")
      ->check(CLI::Range(0, 1024))
      ->default_val(0);
}

void apply_threads(int threads) {
  set_thread_count(threads);
}

void add_max_pixels_option(CLI::App* sub, long long& max_pixels) {
  max_pixels = kDefaultMaxPixels;
  sub->add_option("--max-pixels", max_pixels,
                  "Refuse images larger than N pixels (width x height), checked before any "
                  "pixel memory is allocated")
      ->check(CLI::Range(1LL, 1LL << 40))
      ->capture_default_str();
}

void apply_max_pixels(long long max_pixels) {
  set_default_max_pixels(max_pixels);
}

}  // namespace convkit::cli

namespace {

// One line: "convkit: error: <message>".  Multi-line messages are folded.
// An error that marks a place in a line of source text (convkit::SourceMark)
// is followed by that line and a caret under the place.
void print_error(const std::string& msg, const convkit::SourceMark* mark = nullptr) {
  std::string line = msg;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::fprintf(stderr, "convkit: error: %s\n", line.c_str());
  if (!mark) return;
  std::string src = mark->line;
  std::replace(src.begin(), src.end(), '\n', ' ');
  std::replace(src.begin(), src.end(), '\t', ' ');
  std::string caret(static_cast<std::size_t>(std::max(mark->column, 1) - 1), ' ');
  caret.append(static_cast<std::size_t>(std::max(mark->width, 1)), '^');
  std::fprintf(stderr, "  %s\n  %s\n", src.c_str(), caret.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace convkit;
  CLI::App app{
      "convkit: filter signals and images by convolution, compute the shapes and receptive\n"
      "fields of convolutional networks, and train small CNNs, on one convolution engine."};
  app.name("convkit");
  app.set_version_flag("--version", std::string("convkit ") + CONVKIT_VERSION);
  app.require_subcommand(1, 1);
  app.fallthrough(false);
  auto& reg = cli::command_registry();
  std::stable_sort(
      reg.begin(), reg.end(),
      [](const cli::CommandEntry& a, const cli::CommandEntry& b) { return a.order < b.order; });
  for (const auto& c : reg) c.fn(app);
  app.footer("Run 'convkit COMMAND --help' for a command's options and examples.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string hint = " (see 'convkit";
    for (const auto* sub : app.get_subcommands()) hint += " " + sub->get_name();
    hint += " --help')";
    print_error(std::string(e.what()) + hint);
    return 2;
  } catch (const UsageError& e) {
    print_error(e.what(), e.mark());
    return 2;
  } catch (const Error& e) {
    print_error(e.what(), e.mark());
    return 1;
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
    return 1;
  } catch (const std::exception& e) {
    print_error(e.what());
    return 1;
  }
  std::fflush(stdout);
  if (std::ferror(stdout)) {
    print_error("could not write to standard output");
    return 1;
  }
  return cli::exit_status();
}
