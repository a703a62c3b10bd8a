// Shared pieces of `shape` and `receptive-field` (see arch_common.hpp).
#include "cli/arch_common.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "convkit/error.hpp"

namespace convkit::cli {

void add_arch_source(CLI::App* sub, ArchSource& src) {
  sub->add_option("SPEC", src.words,
                  "The network, e.g. \"CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3\" (several "
                  "words are joined by spaces)");
  sub->add_option("--arch-file", src.file,
                  "Read the network from FILE ('#' starts a comment; layers may span lines)");
}

void add_arch_format(CLI::App* sub, std::string& name) {
  sub->add_option("--format", name, "Output format: " + choice_list(names_of(kArchFormatNames)))
      ->check(CLI::IsMember(names_of(kArchFormatNames), CLI::ignore_case))
      ->default_val("table");
}

ArchFormat arch_format(const std::string& name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (const auto f = find_name(kArchFormatNames, n)) return *f;
  throw UsageError("--format '" + name + "': expected " + choice_list(names_of(kArchFormatNames)));
}

Arch load_arch(const ArchSource& src) {
  if (!src.words.empty() && !src.file.empty())
    throw UsageError("give the network either as SPEC or with --arch-file, not both");
  if (!src.file.empty()) return read_arch_file(src.file);
  if (src.words.empty())
    throw UsageError(
        "no network given: write it as SPEC (e.g. \"CONV3-10 POOL2 FC-3\") or "
        "use --arch-file");
  std::string spec;
  for (const auto& w : src.words) {
    if (!spec.empty()) spec += ' ';
    spec += w;
  }
  try {
    return parse_arch(spec, "SPEC");
  } catch (const ParseError& e) {
    // On the command line a bad SPEC is a usage error (exit 2).
    if (e.mark()) throw UsageError(e.what(), *e.mark());
    throw UsageError(e.what());
  }
}

namespace {

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string r = "\"";
  for (char c : s) {
    if (c == '"') r += '"';
    r += c;
  }
  return r + "\"";
}

std::string md_cell(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '|') r += '\\';
    r += c;
  }
  return r;
}

}  // namespace

std::string render_table(const TextTable& t, ArchFormat fmt) {
  std::string out;
  const std::size_t ncol = t.header.size();
  auto right = [&](std::size_t c) { return c < t.right.size() && t.right[c]; };
  if (fmt == ArchFormat::csv) {
    auto line = [&](const std::vector<std::string>& r) {
      for (std::size_t c = 0; c < ncol; ++c) {
        if (c) out += ',';
        out += csv_field(c < r.size() ? r[c] : "");
      }
      out += '\n';
    };
    line(t.header);
    for (const auto& r : t.rows) line(r);
    return out;
  }
  if (fmt == ArchFormat::markdown) {
    auto line = [&](const std::vector<std::string>& r) {
      out += '|';
      for (std::size_t c = 0; c < ncol; ++c) out += ' ' + md_cell(c < r.size() ? r[c] : "") + " |";
      out += '\n';
    };
    line(t.header);
    out += '|';
    for (std::size_t c = 0; c < ncol; ++c) out += right(c) ? " ---: |" : " --- |";
    out += '\n';
    for (const auto& r : t.rows) line(r);
    return out;
  }
  std::vector<std::size_t> w(ncol, 0);
  auto measure = [&](const std::vector<std::string>& r) {
    for (std::size_t c = 0; c < ncol && c < r.size(); ++c)
      w[c] = std::max(w[c], display_width(r[c]));
  };
  measure(t.header);
  for (const auto& r : t.rows) measure(r);
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (std::size_t c = 0; c < ncol; ++c) {
      const std::string cell = c < r.size() ? r[c] : "";
      std::string fill(w[c] - display_width(cell), ' ');
      if (c) l += "  ";
      l += right(c) ? fill + cell : cell + fill;
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + '\n';
  };
  line(t.header);
  for (const auto& r : t.rows) line(r);
  return out;
}

std::string group_digits(std::int64_t v) {
  const std::string d = std::to_string(v);
  const std::size_t sign = d[0] == '-' ? 1 : 0;
  std::string r = d.substr(0, sign);
  for (std::size_t i = sign; i < d.size(); ++i) {
    if (i > sign && (d.size() - i) % 3 == 0) r += ',';
    r += d[i];
  }
  return r;
}

std::string human_bytes(double bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 6) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[64];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  else
    std::snprintf(buf, sizeof buf,
                  bytes < 10    ? "%.2f %s"
                  : bytes < 100 ? "%.1f %s"
                                : "%.0f %s",
                  bytes, units[u]);
  return buf;
}

}  // namespace convkit::cli
