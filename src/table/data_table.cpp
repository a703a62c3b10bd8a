// Numeric tables: CSV / whitespace text and .npy, read and written.
#include "convkit/data_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "convkit/error.hpp"
#include "plot/file_out.hpp"

namespace convkit {

namespace {

constexpr std::size_t kMaxInputBytes = std::size_t(1) << 31;  // 2 GiB
constexpr std::int64_t kMaxCells = std::int64_t(1) << 28;     // 2 GiB of doubles

std::string read_all(const std::string& path) {
  std::string bytes;
  if (path == "-") {
    bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (bytes.size() > kMaxInputBytes) throw Error("<stdin>: input larger than 2 GiB");
    return bytes;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw Error(path + ": cannot read");
  if (static_cast<std::uint64_t>(size) > kMaxInputBytes)
    throw Error(path + ": file larger than 2 GiB");
  in.seekg(0);
  bytes.resize(static_cast<std::size_t>(size));
  if (!in.read(bytes.data(), size)) throw Error(path + ": cannot read");
  return bytes;
}

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
        throw ParseError(where + ":" + std::to_string(f.column) + ": not a number: '" + f.text +
                         "'");
      if (!std::isfinite(v))
        throw ParseError(where + ":" + std::to_string(f.column) + ": not a finite number: '" +
                         f.text + "'");
      t.data.push_back(v);
    }
    ++t.rows;
    if (nl == text.size()) break;
  }
  if (t.rows == 0) throw ParseError(name + ": no data rows");
  return t;
}

// ---- npy ---------------------------------------------------------------------

std::string npy_value(const std::string& header, const std::string& key) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) return {};
  auto c = header.find(':', k);
  if (c == std::string::npos) return {};
  ++c;
  while (c < header.size() && header[c] == ' ') ++c;
  if (c >= header.size()) return {};
  if (header[c] == '\'') {
    const auto e = header.find('\'', c + 1);
    return e == std::string::npos ? std::string() : header.substr(c, e - c + 1);
  }
  if (header[c] == '(') {
    const auto e = header.find(')', c);
    return e == std::string::npos ? std::string() : header.substr(c, e - c + 1);
  }
  auto e = c;
  while (e < header.size() && header[e] != ',' && header[e] != '}') ++e;
  return trim(header.substr(c, e - c));
}

DataTable parse_npy(std::string_view b, const std::string& name) {
  auto bad = [&](const std::string& why) { return ParseError(name + ": bad .npy file: " + why); };
  if (b.size() < 10 || b.substr(0, 6) != "\x93NUMPY") throw bad("missing magic");
  const int major = static_cast<unsigned char>(b[6]);
  std::size_t hlen, off;
  if (major == 1) {
    hlen = static_cast<unsigned char>(b[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(b[9])) << 8);
    off = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw bad("truncated header");
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<std::size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    off = 12;
  } else {
    throw bad("unsupported version " + std::to_string(major));
  }
  if (hlen > b.size() - off) throw bad("truncated header");
  const std::string header(b.substr(off, hlen));
  off += hlen;
  const std::string descr = npy_value(header, "descr");
  const std::string fortran = npy_value(header, "fortran_order");
  const std::string shape = npy_value(header, "shape");
  if (descr.size() != 5 || shape.empty()) throw bad("header lacks descr or shape");
  const char endian = descr[1], kind = descr[2];
  const int size = descr[3] - '0';
  if (endian == '>' && size > 1) throw bad("big-endian data is not supported");
  if (!((kind == 'f' && (size == 4 || size == 8)) ||
        ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8))))
    throw bad("unsupported dtype " + descr);
  // Shape "(m,)" or "(m, n)".
  std::vector<std::int64_t> dims;
  {
    std::string s = shape.substr(1, shape.size() - 2);
    std::size_t p = 0;
    while (p < s.size()) {
      while (p < s.size() && (s[p] == ' ' || s[p] == ',')) ++p;
      if (p >= s.size()) break;
      std::int64_t v = 0;
      auto [q, ec] = std::from_chars(s.data() + p, s.data() + s.size(), v);
      if (ec != std::errc() || v < 0) throw bad("bad shape " + shape);
      dims.push_back(v);
      p = static_cast<std::size_t>(q - s.data());
    }
  }
  if (dims.empty() || dims.size() > 2)
    throw bad("expected a 1-D or 2-D array, found shape " + shape);
  DataTable t;
  t.format = TableFormat::npy;
  t.rows = dims[0];
  t.cols = dims.size() == 2 ? dims[1] : 1;
  t.npy_1d = dims.size() == 1;
  t.npy_float32 = kind == 'f' && size == 4;
  if (t.cols > 0 && t.rows > kMaxCells / t.cols) throw bad("array too large " + shape);
  const std::int64_t n = t.rows * t.cols;
  if (static_cast<std::uint64_t>(n) * size != b.size() - off)
    throw bad("header says " + shape + " of " + descr + " (" + std::to_string(n * size) +
              " bytes) but the file holds " + std::to_string(b.size() - off) + " data bytes");
  if (n == 0) throw ParseError(name + ": no data rows");
  t.data.resize(static_cast<std::size_t>(n));
  const char* p = b.data() + off;
  const bool f_order = fortran == "True";
  for (std::int64_t i = 0; i < n; ++i) {
    double v = 0;
    const char* q = p + i * size;
    if (kind == 'f') {
      if (size == 4) {
        float f;
        std::memcpy(&f, q, 4);
        v = f;
      } else {
        std::memcpy(&v, q, 8);
      }
    } else {
      std::uint64_t u = 0;
      std::memcpy(&u, q, static_cast<std::size_t>(size));
      if (kind == 'i' && size < 8 && (u >> (8 * size - 1)) & 1) u |= ~std::uint64_t(0) << (8 * size);
      v = kind == 'i' ? static_cast<double>(static_cast<std::int64_t>(u)) : static_cast<double>(u);
    }
    if (!std::isfinite(v))
      throw ParseError(name + ": element " + std::to_string(i) + " is not a finite number");
    // Fortran order stores column after column.
    const std::int64_t r = f_order ? i % t.rows : i / t.cols;
    const std::int64_t c = f_order ? i / t.rows : i % t.cols;
    t.data[static_cast<std::size_t>(r * t.cols + c)] = v;
  }
  return t;
}

std::string format_npy(const DataTable& t) {
  const bool f32 = t.npy_float32;
  std::string shape = "(";
  shape += std::to_string(t.rows);
  if (t.npy_1d && t.cols == 1) {
    shape += ",)";
  } else {
    shape += ", ";
    shape += std::to_string(t.cols);
    shape += ")";
  }
  std::string header = "{'descr': '";
  header += f32 ? "<f4" : "<f8";
  header += "', 'fortran_order': False, 'shape': ";
  header += shape;
  header += ", }";
  // Pad with spaces so that magic + length + header + '\n' is a multiple of 64.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  for (double v : t.data) {
    if (f32) {
      const float f = static_cast<float>(v);
      out.append(reinterpret_cast<const char*>(&f), 4);
    } else {
      out.append(reinterpret_cast<const char*>(&v), 8);
    }
  }
  return out;
}

void append_number(std::string& out, double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, p);
}

}  // namespace

std::vector<double> DataTable::column(std::int64_t c) const {
  std::vector<double> v(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) v[static_cast<std::size_t>(r)] = at(r, c);
  return v;
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
    return parse_npy(bytes, name);
  return parse_text(bytes, name, format);
}

DataTable read_data_table(const std::string& path) {
  const std::string bytes = read_all(path);
  return parse_data_table(bytes, path == "-" ? "<stdin>" : path,
                          path == "-" ? TableFormat::whitespace : table_format_for_path(path));
}

std::string format_data_table(const DataTable& t, TableFormat format) {
  if (format == TableFormat::npy) return format_npy(t);
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
      append_number(out, t.at(r, c));
    }
    out += '\n';
  }
  return out;
}

void write_data_table(const DataTable& t, const std::string& path) {
  plot::write_output_bytes(path, format_data_table(t, t.format));
}

}  // namespace convkit
