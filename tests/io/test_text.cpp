// [text] numbers, signals and matrices as text.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "convkit/error.hpp"
#include "convkit/io/text.hpp"

using namespace convkit;

TEST_CASE("[text] format_number is the shortest text that reads back exactly") {
  CHECK(format_number(-40) == "-40");
  CHECK(format_number(0.5) == "0.5");
  CHECK(format_number(1.9921875) == "1.9921875");
  CHECK(format_number(1e-300) == "1e-300");
  CHECK(format_number(-0.0) == "0");
  CHECK(format_number(0.1) == "0.1");
  CHECK(format_number(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(format_number(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(format_number(std::nan("")) == "nan");
  std::mt19937_64 rng(11);
  for (int k = 0; k < 2000; ++k) {
    std::uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) continue;
    const std::string s = format_number(v);
    CHECK(std::strtod(s.c_str(), nullptr) == v);
  }
}

TEST_CASE("[text] signals: a column, a row, commas, comments and 'n value' pairs") {
  CHECK(parse_signal("1\n2\n3\n", "a").values == std::vector<double>{1, 2, 3});
  CHECK(parse_signal("1, 2,3 # comment\n", "a").values == std::vector<double>{1, 2, 3});
  CHECK(parse_signal("[1 -2.5 +3e2]", "a").values == std::vector<double>{1, -2.5, 300});
  Signal s = parse_signal("# n value\n-2 1\n-1 2\n1 4\n", "a");
  CHECK(s.origin == -2);
  CHECK(s.values == std::vector<double>{1, 2, 0, 4});  // the gap at n=0 is a zero
  Signal one = parse_signal("# n value\n5 7\n", "a");
  CHECK(one.origin == 5);
  CHECK(one.values == std::vector<double>{7});
  Signal round = parse_signal(format_signal(s), "b");
  CHECK(round.origin == s.origin);
  CHECK(round.values == s.values);
  CHECK(classify_text("1 2\n2 3\n3 4\n", "a") == TextShape::indexed_signal);
  CHECK(classify_text("1 2\n3 4\n", "a") == TextShape::matrix);
  CHECK(classify_text("[1 2; 2 3]", "a") == TextShape::matrix);
  CHECK(classify_text("1 2 3", "a") == TextShape::signal);
  CHECK(classify_text("1\n2\n", "a") == TextShape::signal);
}

TEST_CASE("[text] a few 'n value' lines cannot ask for a huge signal (fuzzer find)") {
  // 15 bytes that asked for 256,986,119 zeros (2 GB): found by fuzz_text, kept
  // in fuzz/corpus/text/oom-sparse-span.  Gaps are filled with zeros only up
  // to 16,777,216 samples, or 16 per listed sample for longer signals.
  CHECK_THROWS_WITH_AS(parse_signal("2 5\n256986120 0", "s.txt"),
                       "s.txt: sample indices span 256986119 samples for 2 listed; a sparse "
                       "signal may span at most 16777216 samples (or 16 per listed sample)",
                       ParseError);
  const Signal ok = parse_signal("0 1\n16777215 2\n", "s.txt");  // exactly the limit
  CHECK(ok.values.size() == 16777216);
  CHECK(ok.values.back() == 2);
  CHECK_THROWS_AS(parse_signal("0 1\n16777216 2\n", "s.txt"), ParseError);
}

TEST_CASE("[text] matrices and literals, with errors naming file:line:column") {
  Matrix m = parse_matrix("1 2 3\n\n# note\n4,5,6\n", "m.txt");
  CHECK(m.rows == 2);
  CHECK(m.cols == 3);
  CHECK(m.data == std::vector<double>{1, 2, 3, 4, 5, 6});
  Matrix l = parse_matrix("[1 2 3; 4 5 6]", "lit");
  CHECK(l.rows == 2);
  CHECK(format_matrix(l) == "1 2 3\n4 5 6\n");
  CHECK_THROWS_WITH_AS(parse_matrix("1 2\n3 4x\n", "m.txt"),
                       doctest::Contains("m.txt:2:3: '4x' is not a number"), ParseError);
  CHECK_THROWS_WITH_AS(parse_matrix("1 2 3\n4 5\n", "m.txt"),
                       doctest::Contains("m.txt:2:1: ragged"), ParseError);
  CHECK_THROWS_WITH_AS(parse_matrix("# only a comment\n", "m.txt"), doctest::Contains("no numbers"),
                       ParseError);
  CHECK_THROWS_WITH_AS(parse_matrix("[1 2; 3 4", "k"), doctest::Contains("closing"), ParseError);
  CHECK_THROWS_WITH_AS(parse_matrix("1e999", "k"), doctest::Contains("out of range"), ParseError);
  CHECK_THROWS_WITH_AS(parse_signal("# n value\n3 1\n2 1\n", "s.txt"),
                       doctest::Contains("s.txt:3:1"), ParseError);
  CHECK_THROWS_WITH_AS(parse_signal("1 2 3\n4 5 6\n", "s.txt"), doctest::Contains("s.txt:1:1"),
                       ParseError);
}
