// Numeric tables: CSV / whitespace text and .npy, read and written.
#include "convkit/data_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/io/text.hpp"

namespace convkit {

namespace {

constexpr std::size_t kMaxInputBytes = std::size_t(1) << 31;  // 2 GiB
constexpr std::int64_t kMaxCells = std::int64_t(1) << 28;     // 2 GiB of doubles

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

bool parse_double(const std::string& f, double& v) {
  const char* b = f.data();
  const char* e = b + f.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && p == e && b != e;
}

struct Field {
  std::string text;
  std::size_t column;  // 1-based
};

std::vector<Field> split_fields(std::string_view line, bool csv) {
  std::vector<Field> out;
  if (csv) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == ',') {
        std::string_view raw = line.substr(start, i - start);
        std::size_t lead = 0;
        while (lead < raw.size() && (raw[lead] == ' ' || raw[lead] == '\t')) ++lead;
        out.push_back({trim(raw), start + lead + 1});
        start = i + 1;
      }
    }
    return out;
  }
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size()) break;
    const std::size_t s = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    out.push_back({std::string(line.substr(s, i - s)), s + 1});
  }
  return out;
}

DataTable parse_text(std::string_view text, const std::string& name, TableFormat format) {
  DataTable t;
  t.format = format;
  bool csv_decided = format == TableFormat::csv;
  bool csv = format == TableFormat::csv;
  bool first_data_line = true;
  std::size_t lineno = 0, pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (const auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    if (trim(line).empty()) {
      if (nl == text.size()) break;
      continue;
    }
    if (!csv_decided) {
      csv = line.find(',') != std::string_view::npos;
      csv_decided = true;
      if (csv) t.format = TableFormat::csv;
    }
    const std::vector<Field> fields = split_fields(line, csv);
    const std::string where = name + ":" + std::to_string(lineno);
    if (first_data_line) {
      first_data_line = false;
      // A header: every field is something other than a number.
      bool all_names = true;
      for (const auto& f : fields) {
        double v;
        if (f.text.empty() || parse_double(f.text, v)) all_names = false;
      }
      if (all_names && csv) {
        for (const auto& f : fields) t.names.push_back(f.text);
        t.cols = static_cast<std::int64_t>(fields.size());
        if (nl == text.size()) break;
        continue;
      }
    }
    if (t.cols == 0) t.cols = static_cast<std::int64_t>(fields.size());
    if (static_cast<std::int64_t>(fields.size()) != t.cols)
      throw ParseError(where + ": expected " + std::to_string(t.cols) + " columns, found " +
                       std::to_string(fields.size()) + " (ragged table)");
    for (const auto& f : fields) {
      double v;
      if (!parse_double(f.text, v))
        throw ParseError(where + ":" + std::to_string(f.column) + ": not a number: '" +
                         quote_for_message(f.text) + "'");
      if (!std::isfinite(v))
        throw ParseError(where + ":" + std::to_string(f.column) + ": not a finite number: '" +
                         quote_for_message(f.text) + "'");
      t.data.push_back(v);
    }
    ++t.rows;
    if (nl == text.size()) break;
  }
  if (t.rows == 0) throw ParseError(name + ": no data rows");
  return t;
}

// ---- npy (through convkit/io/npy.hpp) ---------------------------------------

DataTable table_from_npy(std::string_view bytes, const std::string& name) {
  const NpyArray a = parse_npy(bytes, name, kMaxCells);
  if (a.shape.size() > 2)
    throw ParseError(name + ": expected a 1-D or 2-D array (rows x columns), found " +
                     std::to_string(a.shape.size()) + " dimensions");
  DataTable t;
  t.format = TableFormat::npy;
  t.rows = a.shape[0];
  t.cols = a.shape.size() == 2 ? a.shape[1] : 1;
  t.npy_1d = a.shape.size() == 1;
  t.npy_float32 = a.dtype == "f4";
  if (t.rows == 0 || t.cols == 0) throw ParseError(name + ": no data rows");
  for (std::size_t i = 0; i < a.data.size(); ++i)
    if (!std::isfinite(a.data[i]))
      throw ParseError(name + ": element " + std::to_string(i) + " is not a finite number");
  t.data = a.data;
  return t;
}

std::string npy_bytes(const DataTable& t) {
  NpyArray a;
  if (t.npy_1d && t.cols == 1)
    a.shape = {t.rows};
  else
    a.shape = {t.rows, t.cols};
  a.data = t.data;
  return encode_npy(a, t.npy_float32 ? NpyType::f4 : NpyType::f8);
}

}  // namespace

std::vector<double> DataTable::column(std::int64_t c) const {
  std::vector<double> v(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) v[static_cast<std::size_t>(r)] = at(r, c);
  return v;
}

std::vector<double> per_column(const std::vector<double>& values, std::size_t n, const char* name) {
  if (values.size() == n) return values;
  if (values.size() == 1) return std::vector<double>(n, values[0]);
  throw UsageError(param(name) + ": give one value or " + std::to_string(n) +
                   " (one per column), not " + std::to_string(values.size()));
}

TableFormat table_format_for_path(const std::string& path) {
  auto ends = [&](const char* ext) {
    const std::size_t n = std::strlen(ext);
    if (path.size() < n) return false;
    for (std::size_t i = 0; i < n; ++i)
      if (std::tolower(static_cast<unsigned char>(path[path.size() - n + i])) != ext[i])
        return false;
    return true;
  };
  if (ends(".csv")) return TableFormat::csv;
  if (ends(".npy")) return TableFormat::npy;
  return TableFormat::whitespace;
}

DataTable parse_data_table(std::string_view bytes, const std::string& name, TableFormat format) {
  if (format == TableFormat::npy || bytes.substr(0, 6) == "\x93NUMPY")
    return table_from_npy(bytes, name);
  return parse_text(bytes, name, format);
}

DataTable read_data_table(const std::string& path) {
  const std::string bytes = read_file_bytes(path, kMaxInputBytes);
  return parse_data_table(bytes, path == "-" ? "<stdin>" : path,
                          path == "-" ? TableFormat::whitespace : table_format_for_path(path));
}

std::string format_data_table(const DataTable& t, TableFormat format) {
  if (format == TableFormat::npy) return npy_bytes(t);
  const char sep = format == TableFormat::csv ? ',' : ' ';
  std::string out;
  out.reserve(static_cast<std::size_t>(t.rows * t.cols) * 12);
  if (format == TableFormat::csv && !t.names.empty()) {
    for (std::size_t c = 0; c < t.names.size(); ++c) {
      if (c) out += sep;
      out += t.names[c];
    }
    out += '\n';
  }
  for (std::int64_t r = 0; r < t.rows; ++r) {
    for (std::int64_t c = 0; c < t.cols; ++c) {
      if (c) out += sep;
      out += format_number(t.at(r, c));
    }
    out += '\n';
  }
  return out;
}

void write_data_table(const DataTable& t, const std::string& path) {
  write_file_atomic(path, format_data_table(t, t.format));
}

}  // namespace convkit
