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
#include "cli/validate.hpp"
#include "convkit/error.hpp"
#include "convkit/filters.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/text.hpp"
#include "convkit/parallel.hpp"

namespace convkit::cli {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> r;
  return r;
}

namespace {
int g_exit_status = 0;
const CLI::App* g_app = nullptr;  // the program, set once in main()

// The flag of library parameter `name` in the running command: "--" and the
// name with '-' for '_' (or the flag kRenamed gives it), when the command has
// that flag; otherwise the library's name (a parameter the command sets itself).
constexpr std::pair<std::string_view, std::string_view> kRenamed[] = {
    {"op", "--operator"},  // EdgeOptions::op
    {"stddev", "--std"},   // GaussianSpec::stddev
};
std::string flag_for(const std::string& name) {
  std::string flag = "--" + name;
  std::replace(flag.begin(), flag.end(), '_', '-');
  for (const auto& [lib, cli] : kRenamed)
    if (name == lib) flag = cli;
  if (!g_app) return flag;
  for (const CLI::App* sub : g_app->get_subcommands())
    if (sub->get_option_no_throw(flag)) return flag;
  return name;
}
}  // namespace

std::string error_text(const std::exception& e) {
  if (const auto* err = dynamic_cast<const Error*>(&e)) return err->message(flag_for);
  return e.what();
}

void set_exit_status(int status) {
  g_exit_status = std::max(g_exit_status, status);
}
int exit_status() {
  return g_exit_status;
}

void add_threads_option(CLI::App* sub, int& threads) {
  sub->add_option("--threads", threads, "Worker threads (0 = all cores)")
      ->check(whole_range(0, 1024))
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
      ->check(whole_range(1, 1LL << 40))
      ->capture_default_str();
}

void apply_max_pixels(long long max_pixels) {
  set_default_max_pixels(max_pixels);
}

}  // namespace convkit::cli

namespace {

// A word (run without spaces) longer than 200 bytes, such as a 1 MB bad
// token quoted back, is cut to its first 64 bytes and an ellipsis.
std::string cut_long_words(const std::string& text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t e = text.find(' ', i);
    if (e == std::string::npos) e = text.size();
    const std::string_view word(text.data() + i, e - i);
    out += word.size() > 200 ? convkit::quote_for_message(word, 64) : std::string(word);
    if (e < text.size()) out += ' ';
    i = e + 1;
  }
  return out;
}

// One line: "convkit: error: <message>".  Multi-line messages are folded.
// An error that marks a place in a line of source text (convkit::SourceMark)
// is followed by that line and a caret under the place.  Control bytes and
// invalid UTF-8 are escaped and long words cut, so the line stays printable
// and short whatever the input held.
void print_error(const std::string& msg, const convkit::SourceMark* mark = nullptr) {
  std::string line = msg;
  std::replace(line.begin(), line.end(), '\n', ' ');
  line = convkit::quote_for_message(cut_long_words(line), 4000);
  std::fprintf(stderr, "convkit: error: %s\n", line.c_str());
  if (!mark) return;
  std::string src = mark->line;
  std::replace(src.begin(), src.end(), '\n', ' ');
  std::replace(src.begin(), src.end(), '\t', ' ');
  src = convkit::quote_for_message(src, 4000);
  std::string caret(static_cast<std::size_t>(std::max(mark->column, 1) - 1), ' ');
  caret.append(static_cast<std::size_t>(std::max(mark->width, 1)), '^');
  std::fprintf(stderr, "  %s\n  %s\n", src.c_str(), caret.c_str());
}

// Before CLI11 parses: an unknown command or top-level option gets "did you
// mean", and "convkit help [COMMAND]" prints the help of the program or of
// COMMAND.  Returns an exit status, or -1 to go on parsing `args`.
int check_command_word(CLI::App& app, std::vector<std::string>& args) {
  if (args.size() < 2) return -1;
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  names.push_back("help");
  const auto known = [&](const std::string& w) {
    return std::find(names.begin(), names.end(), w) != names.end();
  };
  const std::string word = args[1];
  if (word == "help") {
    if (args.size() == 2 || args[2] == "help") {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    if (!known(args[2])) {
      print_error("help: unknown command '" + args[2] + "'" +
                  convkit::did_you_mean(args[2], names) + " (see 'convkit --help')");
      return 2;
    }
    args = {args[0], args[2], "--help"};
    return -1;
  }
  if (word.size() > 1 && word[0] == '-') {
    const std::string name = word.substr(0, word.find('='));
    const std::vector<std::string> top = {"--help", "-h", "--version"};
    if (std::find(top.begin(), top.end(), name) != top.end()) return -1;
    print_error("unknown option '" + name + "'" +
                convkit::did_you_mean(name, {"--help", "--version"}) +
                " (give a command first; see 'convkit --help')");
    return 2;
  }
  if (!known(word)) {
    print_error("unknown command '" + word + "'" + convkit::did_you_mean(word, names) +
                " (see 'convkit --help' for the list)");
    return 2;
  }
  return -1;
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
  cli::g_app = &app;
  app.footer(
      "Run 'convkit COMMAND --help' (or 'convkit help COMMAND') for a command's options and "
      "examples.");

  std::vector<std::string> args(argv, argv + argc);
  if (const int status = check_command_word(app, args); status >= 0) return status;

  try {
    std::vector<std::string> rest(args.rbegin(), args.rend() - 1);
    app.parse(rest);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string hint = " (see 'convkit";
    std::string close;
    for (const auto* sub : app.get_subcommands()) {
      hint += " " + sub->get_name();
      // A misspelt option ("--sigm") gets the command's closest option names.
      std::vector<std::string> flags;
      for (const CLI::Option* opt : sub->get_options())
        for (const std::string& n : opt->get_lnames()) flags.push_back("--" + n);
      for (const std::string& extra : sub->remaining())
        if (close.empty() && extra.size() > 2 && extra.rfind("--", 0) == 0)
          close = did_you_mean(extra.substr(0, extra.find('=')), flags);
    }
    hint += " --help')";
    print_error(std::string(e.what()) + close + hint);
    return 2;
  } catch (const UsageError& e) {
    print_error(cli::error_text(e), e.mark());
    return 2;
  } catch (const Error& e) {
    print_error(cli::error_text(e), e.mark());
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
