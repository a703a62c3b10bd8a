// convkit/io/text.hpp — signals, matrices and numbers as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace convkit {

/// The shortest decimal text that reads back to exactly the same double
/// ("-40", "0.5", "1.9921875", "1e-300"); "nan", "inf", "-inf".
std::string format_number(double v);
/// The shortest decimal text that reads back to exactly the same float
/// ("6.0000005", not the double 6.000000476837158).
std::string format_number_f32(float v);

/// `text` for a message: control bytes and invalid UTF-8 as \xNN escapes,
/// cut after `max` bytes with "..." (never raw binary, never cut at a NUL).
std::string quote_for_message(std::string_view text, std::size_t max = 64);

/// `s` as a JSON string literal, quotes included: quotes, backslashes and
/// control characters (and DEL) escaped, valid UTF-8 kept, and each byte of
/// invalid UTF-8 written as the lone surrogate \udcXX (XX = the byte), as
/// Python's "surrogateescape" decodes file names, so that
/// os.fsencode(json.loads(...)) gives back the exact bytes.
std::string json_string(std::string_view s);

/// True when the first bytes of `bytes` hold a NUL or other control bytes
/// that no text matrix or signal contains.
bool looks_binary(std::string_view bytes);

/// A 1D signal: values[k] is the sample at index n = origin + k.
struct Signal {
  std::int64_t origin = 0;
  std::vector<double> values;
};

/// Parse a signal: one value per line or whitespace/comma separated, or the
/// two-column form "n value" per line (indices ascending; gaps are zeros).
/// `#` starts a comment; a comment line "# n value" before the numbers marks
/// the two-column form even when there is only one line.  `name` is used in error messages with
/// line:column.
Signal parse_signal(std::string_view text, const std::string& name);
Signal read_signal(const std::string& path);  ///< "-" = stdin
/// A "# n value" comment line, then "n value" per line, values round-tripping exactly.
std::string format_signal(const Signal& s);

/// What a text holds, for commands that take either a signal or a matrix:
///   signal          one row of values, or one value per line
///   indexed_signal  two columns "n value" whose first column counts up by one,
///                   or any two-column text under a "# n value" comment line
///   matrix          anything else (an inline literal "[...]" with several rows and columns)
enum class TextShape { signal, indexed_signal, matrix };
TextShape classify_text(std::string_view text, const std::string& name);

/// A dense matrix, row-major.
struct Matrix {
  int rows = 0, cols = 0;
  std::vector<double> data;
  double operator()(int r, int c) const { return data[static_cast<std::size_t>(r) * cols + c]; }
};

/// Rows of numbers, one row per line (whitespace or comma separated), or an
/// inline literal "[1 2 3; 4 5 6]" (rows separated by ';' or newlines).
/// A number may be written as a fraction A/B ("1/9"; B not 0).
/// Ragged rows, bad numbers and empty input are errors naming line:column.
Matrix parse_matrix(std::string_view text, const std::string& name);
Matrix read_matrix(const std::string& path);  ///< "-" = stdin
std::string format_matrix(const Matrix& m);   ///< space-separated rows, exact values
/// How format_matrix_as writes: the separator between values (' ', or ','
/// for CSV), and whether the values are float32 data, printed in the
/// shortest form that reads back to the same float (6.0000005, not the
/// double 6.000000476837158).
struct MatrixText {
  char separator = ' ';
  bool float32 = false;
};
std::string format_matrix_as(const Matrix& m, const MatrixText& how);

}  // namespace convkit
