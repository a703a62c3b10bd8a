// Numbers, signals and matrices as text.
#include "convkit/io/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/image.hpp"

namespace convkit {

namespace {

// The shortest text that reads back to exactly v in T's own precision.
template <class T>
std::string shortest_text(T v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) v = 0;  // no "-0"
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

std::string format_number(double v) {
  return shortest_text(v);
}

std::string format_number_f32(float v) {
  return shortest_text(v);
}

namespace {

// Length of the valid UTF-8 sequence at s[i] (2..4), or 0 (not UTF-8, an
// overlong form, a surrogate or past U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const std::size_t n = b >= 0xC2 && b <= 0xDF   ? 2
                        : b >= 0xE0 && b <= 0xEF ? 3
                        : b >= 0xF0 && b <= 0xF4 ? 4
                                                 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  const auto c = static_cast<unsigned char>(s[i + 1]);
  if ((b == 0xE0 && c < 0xA0) || (b == 0xED && c > 0x9F) || (b == 0xF0 && c < 0x90) ||
      (b == 0xF4 && c > 0x8F))
    return 0;
  return n;
}

}  // namespace

std::string quote_for_message(std::string_view text, std::size_t max) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size() && i < max) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c >= 0x80 ? utf8_length(text, i) : 0;
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (n > 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
      ++i;
    }
  }
  if (i < text.size()) out += "... (" + std::to_string(text.size() - i) + " more bytes)";
  return out;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  auto escape = [&](unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", v);
    out += buf;
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c >= 0x80 ? utf8_length(s, i) : 1;
    if (n > 1) {
      out.append(s.substr(i, n));
    } else if (c >= 0x80) {
      escape(0xDC00u | c);
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      escape(c);
    } else {
      out += static_cast<char>(c);
    }
    i += n == 0 ? 1 : n;
  }
  return out + '"';
}

bool looks_binary(std::string_view bytes) {
  const std::size_t n = std::min<std::size_t>(bytes.size(), 4096);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') return true;
    if (c == 0x7F) return true;
  }
  return false;
}

namespace detail {

struct Token {
  double value;
  int line, col;
};

// Splits text into rows of numbers.  A row ends at a newline, and also at ';'
// inside an inline literal "[...]".  Whitespace and commas separate numbers;
// '#' starts a comment.  Rows without numbers are dropped.
std::vector<std::vector<Token>> tokenize(std::string_view text, const std::string& name,
                                         bool* literal_out) {
  std::size_t i = 0;
  int line = 1, col = 1;
  auto advance = [&](std::size_t n) {
    for (std::size_t k = 0; k < n; ++k, ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
  };
  auto where = [&](int l, int c) {
    return name + ":" + std::to_string(l) + ":" + std::to_string(c);
  };
  if (looks_binary(text))
    throw ParseError(name + ": not a text matrix or signal (binary data, starting '" +
                     quote_for_message(text, 16) + "')");
  // An inline literal starts with '[' after optional whitespace.
  std::size_t first = text.find_first_not_of(" \t\r\n");
  const bool literal = first != std::string_view::npos && text[first] == '[';
  if (literal_out) *literal_out = literal;
  std::size_t end = text.size();
  if (literal) {
    advance(first + 1);
    std::size_t close = text.find_last_not_of(" \t\r\n");
    if (text[close] != ']') throw ParseError(where(line, col - 1) + ": '[' without a closing ']'");
    end = close;
  }
  std::vector<std::vector<Token>> rows(1);
  while (i < end) {
    char c = text[i];
    if (c == '\n' || (literal && c == ';')) {
      if (!rows.back().empty()) rows.emplace_back();
      advance(1);
    } else if (c == ' ' || c == '\t' || c == '\r' || c == ',') {
      advance(1);
    } else if (c == '#') {
      while (i < end && text[i] != '\n') advance(1);
    } else {
      std::size_t j = i;
      while (j < end && text[j] != ' ' && text[j] != '\t' && text[j] != '\r' && text[j] != '\n' &&
             text[j] != ',' && text[j] != '#' && !(literal && (text[j] == ';' || text[j] == ']')))
        ++j;
      if (j == i) {  // a stray ']' or '[' inside a literal
        throw ParseError(where(line, col) + ": unexpected '" +
                         quote_for_message(std::string_view(&text[i], 1)) + "'");
      }
      std::string_view tok = text.substr(i, j - i);
      std::string_view num = tok;
      if (num.size() > 1 && num[0] == '+' && num[1] != '-') num.remove_prefix(1);
      double v = 0;
      auto r = std::from_chars(num.data(), num.data() + num.size(), v);
      if (r.ec == std::errc() && r.ptr != num.data() + num.size() && *r.ptr == '/') {
        // A fraction A/B ("1/9"): the quotient, which must be a finite number.
        std::string_view den(r.ptr + 1,
                             static_cast<std::size_t>(num.data() + num.size() - r.ptr - 1));
        if (den.size() > 1 && den[0] == '+' && den[1] != '-') den.remove_prefix(1);
        double d = 0;
        auto rd = std::from_chars(den.data(), den.data() + den.size(), d);
        if (rd.ec != std::errc() || rd.ptr != den.data() + den.size())
          throw ParseError(where(line, col) + ": '" + quote_for_message(tok) +
                           "' is not a number or a fraction A/B");
        if (d == 0)
          throw ParseError(where(line, col) + ": fraction '" + quote_for_message(tok) +
                           "' divides by zero");
        v /= d;
        if (!std::isfinite(v))
          throw ParseError(where(line, col) + ": fraction '" + quote_for_message(tok) +
                           "' is not a finite number");
        r.ptr = num.data() + num.size();
      }
      if (r.ec == std::errc::result_out_of_range)
        throw ParseError(where(line, col) + ": number '" + quote_for_message(tok) +
                         "' is out of range");
      if (r.ec != std::errc() || r.ptr != num.data() + num.size())
        throw ParseError(where(line, col) + ": '" + quote_for_message(tok) + "' is not a number");
      rows.back().push_back({v, line, col});
      advance(j - i);
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

// True when a comment line "# n value" comes before the first number: the
// text is a signal in the two-column form even if it has a single line.
bool has_index_header(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t e = text.find('\n', i);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = text.substr(i, e - i);
    i = e + 1;
    std::size_t a = line.find_first_not_of(" \t\r");
    if (a == std::string_view::npos) continue;
    if (line[a] != '#') return false;
    line.remove_prefix(a + 1);
    std::string words;
    for (char c : line) {
      if (c == ' ' || c == '\t' || c == '\r') {
        if (!words.empty() && words.back() != ' ') words += ' ';
      } else {
        words += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    if (!words.empty() && words.back() == ' ') words.pop_back();
    if (words == "n value") return true;
  }
  return false;
}

bool is_integer(double v) {
  return std::isfinite(v) && v == std::nearbyint(v) && std::fabs(v) < 9e15;
}

}  // namespace detail

TextShape classify_text(std::string_view text, const std::string& name) {
  bool literal = false;
  auto rows = detail::tokenize(text, name, &literal);
  if (rows.empty()) throw ParseError(name + ": no numbers found");
  bool one_column = true;
  for (const auto& r : rows) one_column = one_column && r.size() == 1;
  if (!literal && detail::has_index_header(text)) {
    bool pairs = true;
    for (const auto& r : rows) pairs = pairs && r.size() == 2;
    if (pairs) return TextShape::indexed_signal;
  }
  if (rows.size() == 1 || one_column) return TextShape::signal;
  if (!literal) {
    bool indexed = true;
    for (std::size_t k = 0; k < rows.size() && indexed; ++k) {
      indexed = rows[k].size() == 2 && detail::is_integer(rows[k][0].value) &&
                (k == 0 || rows[k][0].value == rows[k - 1][0].value + 1);
    }
    if (indexed) return TextShape::indexed_signal;
  }
  return TextShape::matrix;
}

Signal parse_signal(std::string_view text, const std::string& name) {
  bool literal = false;
  auto rows = detail::tokenize(text, name, &literal);
  if (rows.empty()) throw ParseError(name + ": no numbers found (an empty signal)");
  Signal s;
  bool one_column = true;
  for (const auto& r : rows) one_column = one_column && r.size() == 1;
  const bool header = !literal && detail::has_index_header(text);
  if (!header && (rows.size() == 1 || one_column)) {
    for (const auto& r : rows)
      for (const auto& t : r) s.values.push_back(t.value);
    return s;
  }
  // Two-column form "n value": ascending integer indices, gaps are zeros.
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    auto at = [&](const detail::Token& t) {
      return name + ":" + std::to_string(t.line) + ":" + std::to_string(t.col);
    };
    if (literal || r.size() != 2)
      throw ParseError(at(r[0]) +
                       ": a signal is one value per line, one row of values, or 'n value' "
                       "pairs; this line has " +
                       std::to_string(r.size()) + " values");
    if (!detail::is_integer(r[0].value))
      throw ParseError(at(r[0]) + ": sample index '" + format_number(r[0].value) +
                       "' is not an integer");
    if (k > 0 && r[0].value <= rows[k - 1][0].value)
      throw ParseError(at(r[0]) + ": sample indices must increase (" +
                       format_number(rows[k - 1][0].value) + " then " + format_number(r[0].value) +
                       ")");
  }
  // The gaps are filled with zeros: a few lines must not be able to ask for
  // gigabytes.  Up to 2^24 samples (128 MiB of doubles) always; longer only
  // as a listed signal (16 samples per line given), to 2^28 at most.
  const double span = rows.back()[0].value - rows.front()[0].value + 1;
  const double listed = static_cast<double>(rows.size());
  if (span > double(1 << 24) && span > 16 * listed)
    throw ParseError(name + ": sample indices span " + format_number(span) + " samples for " +
                     format_number(listed) +
                     " listed; a sparse signal may span at most 16777216 samples (or 16 per "
                     "listed sample)");
  if (span > double(1 << 28))
    throw ParseError(name + ": sample indices span " + format_number(span) +
                     " samples; the limit is 268435456");
  s.origin = static_cast<std::int64_t>(rows.front()[0].value);
  s.values.assign(static_cast<std::size_t>(span), 0.0);
  for (const auto& r : rows) s.values[static_cast<std::size_t>(r[0].value - s.origin)] = r[1].value;
  return s;
}

Signal read_signal(const std::string& path) {
  return parse_signal(read_input_bytes(path), path == "-" ? "<stdin>" : path);
}

std::string format_signal(const Signal& s) {
  std::string out = "# n value\n";
  out.reserve(s.values.size() * 12 + 10);
  for (std::size_t k = 0; k < s.values.size(); ++k) {
    out += std::to_string(s.origin + static_cast<std::int64_t>(k));
    out += ' ';
    out += format_number(s.values[k]);
    out += '\n';
  }
  return out;
}

Matrix parse_matrix(std::string_view text, const std::string& name) {
  auto rows = detail::tokenize(text, name, nullptr);
  if (rows.empty()) throw ParseError(name + ": no numbers found (an empty matrix)");
  Matrix m;
  m.rows = static_cast<int>(rows.size());
  m.cols = static_cast<int>(rows[0].size());
  for (std::size_t k = 1; k < rows.size(); ++k) {
    if (rows[k].size() != rows[0].size()) {
      const auto& t = rows[k].size() > rows[0].size() ? rows[k][rows[0].size()] : rows[k][0];
      throw ParseError(name + ":" + std::to_string(t.line) + ":" + std::to_string(t.col) +
                       ": ragged matrix: row " + std::to_string(k + 1) + " has " +
                       std::to_string(rows[k].size()) + " values, row 1 has " +
                       std::to_string(rows[0].size()));
    }
  }
  m.data.reserve(static_cast<std::size_t>(m.rows) * m.cols);
  for (const auto& r : rows)
    for (const auto& t : r) m.data.push_back(t.value);
  return m;
}

Matrix read_matrix(const std::string& path) {
  return parse_matrix(read_input_bytes(path), path == "-" ? "<stdin>" : path);
}

std::string format_matrix_as(const Matrix& m, const MatrixText& how) {
  std::string out;
  for (int r = 0; r < m.rows; ++r) {
    for (int c = 0; c < m.cols; ++c) {
      if (c) out += how.separator;
      const double v = m(r, c);
      out += how.float32 ? format_number_f32(static_cast<float>(v)) : format_number(v);
    }
    out += '\n';
  }
  return out;
}

std::string format_matrix(const Matrix& m) {
  return format_matrix_as(m, {});
}

}  // namespace convkit
