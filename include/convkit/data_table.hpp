// convkit/data_table.hpp — numeric tables (rows of samples, columns of
// features) as CSV, whitespace-separated text, or NumPy .npy.
//
// Text: one row per line, `#` starts a comment, blank lines are skipped.  CSV
// (comma separated; chosen by a .csv extension, or by commas in the first
// data line) may start with a header line of column names.  Every row must
// have the same number of columns; numbers must be finite.  Errors name the
// file and line:column.
// NPY: 1-D (one column) or 2-D arrays of float32/float64, (u)int8..64,
// little-endian, C or Fortran order; the header must agree with the size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace convkit {

enum class TableFormat { whitespace, csv, npy };

struct DataTable {
  std::int64_t rows = 0, cols = 0;
  std::vector<double> data;        ///< row-major rows x cols
  std::vector<std::string> names;  ///< CSV header (empty when none)
  TableFormat format = TableFormat::whitespace;
  bool npy_float32 = false;  ///< the .npy input was float32 (written back as float32)
  bool npy_1d = false;       ///< the .npy input was 1-D (written back as 1-D)

  double at(std::int64_t r, std::int64_t c) const {
    return data[static_cast<std::size_t>(r * cols + c)];
  }
  std::vector<double> column(std::int64_t c) const;
};

/// `values` for `n` columns: one value repeated, or exactly n; UsageError naming
/// parameter `name` otherwise.
std::vector<double> per_column(const std::vector<double>& values, std::size_t n, const char* name);

/// The format a path names by its extension (.csv, .npy, anything else text).
TableFormat table_format_for_path(const std::string& path);

/// Parse a table from bytes; `name` is used in error messages.
DataTable parse_data_table(std::string_view bytes, const std::string& name, TableFormat format);
/// Read a table ("-" = standard input, text; format sniffed for .npy magic).
DataTable read_data_table(const std::string& path);

/// The bytes of a table in a format (text numbers round-trip exactly).
std::string format_data_table(const DataTable& t, TableFormat format);
/// Write a table ("-" = standard output), atomically, format by the table's `format`.
void write_data_table(const DataTable& t, const std::string& path);

}  // namespace convkit
