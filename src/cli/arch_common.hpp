// src/cli/arch_common.hpp — what `shape` and `receptive-field` share: where
// the architecture comes from (SPEC words or --arch-file), --format, and
// rendering a table as text, CSV or Markdown.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "convkit/arch.hpp"
#include "convkit/names.hpp"

namespace convkit::cli {

enum class ArchFormat { table, csv, json, markdown };
inline constexpr EnumName<ArchFormat> kArchFormatNames[] = {{"table", ArchFormat::table},
                                                            {"csv", ArchFormat::csv},
                                                            {"json", ArchFormat::json},
                                                            {"markdown", ArchFormat::markdown}};

/// SPEC (one or more words, joined by spaces) and --arch-file FILE.
struct ArchSource {
  std::vector<std::string> words;
  std::string file;
};

void add_arch_source(CLI::App* sub, ArchSource& src);
/// --format table|csv|json|markdown (case-insensitive), into `name`.
void add_arch_format(CLI::App* sub, std::string& name);
ArchFormat arch_format(const std::string& name);

/// Exactly one of SPEC and --arch-file.  A malformed SPEC is a UsageError
/// (exit 2), a malformed file a ParseError (exit 1); both keep the caret mark.
Arch load_arch(const ArchSource& src);

struct TextTable {
  std::vector<std::string> header;
  std::vector<bool> right;  ///< per column: right-aligned (numbers)
  std::vector<std::vector<std::string>> rows;
};

/// table: aligned columns (UTF-8 aware); csv: RFC 4180; markdown: a pipe table.
std::string render_table(const TextTable& t, ArchFormat fmt);

/// 1234567 -> "1,234,567".
std::string group_digits(std::int64_t v);

/// Bytes as "52.8 KiB", "3.30 MiB", ...
std::string human_bytes(double bytes);

}  // namespace convkit::cli
