// [table] numeric tables: CSV / whitespace text and .npy.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "convkit/data_table.hpp"
#include "convkit/error.hpp"

using namespace convkit;

namespace {

std::string error_of(const std::string& text, TableFormat f = TableFormat::whitespace) {
  try {
    parse_data_table(text, "t.txt", f);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("[table] whitespace and CSV text parse, with comments, blank lines and a header") {
  const DataTable a = parse_data_table("# x y\n1 2\n\n3\t4  # c\n-5e-1 +6\n", "a", TableFormat::whitespace);
  CHECK(a.rows == 3);
  CHECK(a.cols == 2);
  CHECK(a.at(2, 0) == -0.5);
  CHECK(a.at(2, 1) == 6);
  const DataTable b = parse_data_table("height, weight\n1.5, 60\n1.75,80\n", "b", TableFormat::csv);
  CHECK(b.rows == 2);
  CHECK(b.names == std::vector<std::string>{"height", "weight"});
  CHECK(b.at(1, 1) == 80);
  // Commas in the first data line make text CSV even without the extension.
  const DataTable c = parse_data_table("1,2,3\n4,5,6\n", "c", TableFormat::whitespace);
  CHECK(c.format == TableFormat::csv);
  CHECK(c.cols == 3);
}

TEST_CASE("[table] text output reads back to exactly the same numbers and header") {
  DataTable t;
  t.rows = 2;
  t.cols = 2;
  t.data = {0.1, 1.0 / 3, -2.5e-300, 12345678.901234567};
  t.names = {"a", "b"};
  for (TableFormat f : {TableFormat::whitespace, TableFormat::csv}) {
    const DataTable back = parse_data_table(format_data_table(t, f), "rt", f);
    CHECK(back.data == t.data);
    if (f == TableFormat::csv) CHECK(back.names == t.names);
  }
}

TEST_CASE("[table] ragged rows, non-numbers and empty input are errors naming line and column") {
  CHECK(error_of("1 2\n3 4\n5\n") == "t.txt:3: expected 2 columns, found 1 (ragged table)");
  CHECK(error_of("1 2\n3 x4\n") == "t.txt:2:3: not a number: 'x4'");
  CHECK(error_of("1,2\n3,,\n", TableFormat::csv) == "t.txt:2: expected 2 columns, found 3 (ragged table)");
  CHECK(error_of("1\ninf\n") == "t.txt:2:1: not a finite number: 'inf'");
  CHECK(error_of("# nothing\n\n") == "t.txt: no data rows");
}

TEST_CASE("[table] npy files are read in C and Fortran order and written back") {
  // A hand-made 2x3 int16 array in Fortran order: [[1 2 3] [4 5 6]] stored by columns.
  std::string header = "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string f("\x93NUMPY\x01\x00", 8);
  f += static_cast<char>(header.size());
  f += '\0';
  f += header;
  for (short v : {1, 4, 2, 5, 3, -6}) f.append(reinterpret_cast<const char*>(&v), 2);
  const DataTable t = parse_data_table(f, "f.npy", TableFormat::npy);
  CHECK(t.rows == 2);
  CHECK(t.cols == 3);
  CHECK(t.data == std::vector<double>{1, 2, 3, 4, 5, -6});
  const std::string out = format_data_table(t, TableFormat::npy);
  CHECK(out.substr(0, 6) == "\x93NUMPY");
  CHECK((10 + static_cast<unsigned char>(out[8]) + 256 * static_cast<unsigned char>(out[9])) % 64 == 0);
  CHECK(out.find("'descr': '<f8'") != std::string::npos);
  CHECK(out.find("'shape': (2, 3)") != std::string::npos);
  const DataTable back = parse_data_table(out, "g.npy", TableFormat::npy);
  CHECK(back.data == t.data);
  // A header that lies about the size is refused.
  std::string lie = f.substr(0, f.size() - 2);
  CHECK_THROWS_WITH_AS(parse_data_table(lie, "f.npy", TableFormat::npy),
                       doctest::Contains("f.npy"), ParseError);
  // So is a 3-D array.
  std::string h3 = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }";
  h3.append(64 - (10 + h3.size() + 1) % 64, ' ');
  h3 += '\n';
  std::string f3("\x93NUMPY\x01\x00", 8);
  f3 += static_cast<char>(h3.size());
  f3 += '\0';
  f3 += h3;
  const double one = 1;
  f3.append(reinterpret_cast<const char*>(&one), 8);
  CHECK_THROWS_WITH_AS(parse_data_table(f3, "c.npy", TableFormat::npy),
                       doctest::Contains("3 dimensions"), ParseError);
  CHECK_THROWS_AS(parse_data_table(std::string("\x93NUMPY\x01\x00\xff\x7f", 10), "h.npy",
                                   TableFormat::npy),
                  ParseError);
}
