// [cli] The man pages against the command line itself: every option that
// `convkit CMD --help` lists is documented in man/convkit-CMD.1, the page
// documents no option the command does not have, its synopsis and examples
// use only real options, and convkit(1) lists exactly the commands of
// `convkit --help`.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/run.hpp"

using convkit::test::commands_in_help;
using convkit::test::option_names_in_help;
using convkit::test::read_file;
using convkit::test::run_convkit;
using convkit::test::source_path;

namespace {

// A roff line as text: \- is a dash, font changes (\fB, \fR, \f(CW) and
// quotes go, \e is a backslash.
std::string roff_text(const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') continue;
    if (line[i] != '\\' || i + 1 == line.size()) {
      out += line[i];
      continue;
    }
    const char c = line[++i];
    if (c == '-') {
      out += '-';
    } else if (c == 'e') {
      out += '\\';
    } else if (c == 'f') {
      if (i + 1 < line.size()) i += line[i + 1] == '(' ? 3 : 1;
    } else if (c == '(') {
      i += 2;  // a special character such as \(*s: not part of any option name
      out += ' ';
    }
  }
  return out;
}

// The options named in text: words such as -o, -0, --max-pixels (with
// "=value" cut), starting a word or after one of ,|[( ; not numbers.
std::set<std::string> options_in_text(const std::string& text) {
  std::set<std::string> found;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '-') continue;
    if (i > 0 && std::string(" ,|[(").find(text[i - 1]) == std::string::npos) continue;
    std::size_t j = i + (i + 1 < text.size() && text[i + 1] == '-' ? 2 : 1);
    if (j >= text.size() || !std::isalnum(static_cast<unsigned char>(text[j]))) continue;
    std::size_t e = j;
    while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) || text[e] == '-'))
      ++e;
    const std::string name = text.substr(i, e - i);
    // A number such as -1 or -6:12 is not an option; -0 (--null) is.
    const bool number = j == i + 1 && std::isdigit(static_cast<unsigned char>(text[j])) &&
                        (name != "-0" || (e < text.size() && text[e] != ' ' && text[e] != ','));
    if ((j == i + 2 || name.size() == 2) && !number) found.insert(name);  // -x, or --long
    i = e;
  }
  return found;
}

struct ManPage {
  std::set<std::string> documented;   ///< options in the tags of .TP / .TQ items
  std::set<std::string> synopsis;     ///< options in the SYNOPSIS section
  std::vector<std::string> examples;  ///< lines of the EXAMPLES section, continuations joined
  /// The first word of every tag, by section (".B blur" in COMMANDS -> "blur").
  std::map<std::string, std::set<std::string>> items_by_section;
};

ManPage read_man_page(const std::string& path) {
  ManPage page;
  std::istringstream in(read_file(path));
  std::string section;
  bool tag_next = false;
  std::string pending;  // an example line ending in a backslash
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(".SH", 0) == 0) {
      section = roff_text(line.substr(3));
      section.erase(0, section.find_first_not_of(' '));
      tag_next = false;
      continue;
    }
    if (line == ".TP" || line == ".TQ") {
      tag_next = true;
      continue;
    }
    const std::string text = roff_text(line);
    if (tag_next) {
      tag_next = false;
      const std::set<std::string> o = options_in_text(text);
      page.documented.insert(o.begin(), o.end());
      std::istringstream words(line[0] == '.' ? text.substr(text.find(' ') + 1) : text);
      std::string first;
      if (words >> first) page.items_by_section[section].insert(first);
    }
    if (section == "SYNOPSIS") {
      const std::set<std::string> o = options_in_text(text);
      page.synopsis.insert(o.begin(), o.end());
    }
    if (section == "EXAMPLES" && line[0] != '.') {
      pending += text;
      if (!pending.empty() && pending.back() == '\\') {
        pending.back() = ' ';
      } else {
        page.examples.push_back(pending);
        pending.clear();
      }
    }
  }
  return page;
}

std::string help_of(const std::vector<std::string>& args) {
  const auto r = run_convkit(args);
  REQUIRE(r.status == 0);
  return r.out;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : " ") + x;
  return out;
}

}  // namespace

TEST_CASE("[cli] every man page documents exactly the options of its command's --help") {
  const std::vector<std::string> commands = commands_in_help(help_of({"--help"}));
  REQUIRE(commands.size() >= 10);
  std::map<std::string, std::set<std::string>> options;
  for (const std::string& cmd : commands) {
    const std::vector<std::string> names = option_names_in_help(help_of({cmd, "--help"}));
    options[cmd] = std::set<std::string>(names.begin(), names.end());
    options[cmd].erase("-h");
    options[cmd].erase("--help");
    REQUIRE(!options[cmd].empty());
  }
  for (const std::string& cmd : commands) {
    CAPTURE(cmd);
    const std::string path = source_path("man/convkit-" + cmd + ".1");
    REQUIRE(std::filesystem::exists(path));
    const ManPage page = read_man_page(path);
    std::set<std::string> undocumented, unknown, bad_synopsis;
    for (const std::string& o : options[cmd])
      if (!page.documented.count(o)) undocumented.insert(o);
    for (const std::string& o : page.documented)
      if (!options[cmd].count(o)) unknown.insert(o);
    for (const std::string& o : page.synopsis)
      if (!options[cmd].count(o)) bad_synopsis.insert(o);
    CHECK_MESSAGE(undocumented.empty(), "in --help, not in the man page: " << joined(undocumented));
    CHECK_MESSAGE(unknown.empty(), "in the man page, not in --help: " << joined(unknown));
    CHECK_MESSAGE(bad_synopsis.empty(), "in the synopsis, not in --help: " << joined(bad_synopsis));
    // Every `convkit X ...` of an example (pipelines too) uses options X has.
    for (const std::string& line : page.examples) {
      std::istringstream stages(line);
      for (std::string stage; std::getline(stages, stage, '|');) {
        std::istringstream words(stage);
        std::string prog, sub;
        if (!(words >> prog >> sub) || prog != "convkit" || !options.count(sub)) continue;
        CAPTURE(stage);
        for (const std::string& o : options_in_text(stage))
          CHECK_MESSAGE(options[sub].count(o), "an example uses " << o);
      }
    }
  }
}

TEST_CASE("[cli] convkit(1) lists every command of convkit --help, and no other has a page") {
  const std::string help = help_of({"--help"});
  const std::vector<std::string> commands = commands_in_help(help);
  REQUIRE(!commands.empty());
  const ManPage page = read_man_page(source_path("man/convkit.1"));
  const std::set<std::string> listed = page.items_by_section.count("COMMANDS")
                                           ? page.items_by_section.at("COMMANDS")
                                           : std::set<std::string>{};
  CHECK(listed == std::set<std::string>(commands.begin(), commands.end()));
  // Its own options are the program's (--help, --version).
  const std::vector<std::string> top = option_names_in_help(help);
  CHECK(page.documented == std::set<std::string>(top.begin(), top.end()));
  // A page for each command and none for a command that does not exist.
  std::set<std::string> pages;
  for (const auto& e : std::filesystem::directory_iterator(source_path("man"))) {
    const std::string name = e.path().filename().string();
    if (name.rfind("convkit-", 0) == 0 && e.path().extension() == ".1")
      pages.insert(name.substr(8, name.size() - 10));
  }
  CHECK(pages == std::set<std::string>(commands.begin(), commands.end()));
  // It refers to every command's page.
  const std::string text = roff_text(read_file(source_path("man/convkit.1")));
  for (const std::string& cmd : commands) {
    CAPTURE(cmd);
    CHECK(text.find("convkit-" + cmd + " (1)") != std::string::npos);
  }
}
