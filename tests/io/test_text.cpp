// [text] numbers, signals and matrices as text.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
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

TEST_CASE("[text] format_number_f32 is the shortest text that reads back to the same float") {
  const float six = std::nextafter(6.0f, 7.0f);  // 6.000000476837158 as a double
  CHECK(format_number_f32(six) == "6.0000005");
  CHECK(format_number(six) == "6.000000476837158");
  CHECK(format_number_f32(0.1f) == "0.1");
  CHECK(format_number_f32(-0.0f) == "0");
  CHECK(format_number_f32(std::numeric_limits<float>::quiet_NaN()) == "nan");
  // Random bit patterns: each reads back through strtof, in no more characters
  // than the fewest %.Ng digits that read back.
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    const std::uint32_t bits = static_cast<std::uint32_t>(rng());
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (!std::isfinite(f)) continue;
    const std::string t = format_number_f32(f);
    CAPTURE(t);
    CHECK(std::strtof(t.c_str(), nullptr) == f);
    // Oracle: the fewest %.Ng digits that read back (at most 9 for a float).
    int need = 1;
    char buf[64];
    for (; need <= 9; ++need) {
      std::snprintf(buf, sizeof buf, "%.*g", need, static_cast<double>(f));
      if (std::strtof(buf, nullptr) == f) break;
    }
    CHECK(need <= 9);
    CHECK(t.size() <= std::strlen(buf));  // no longer than the fewest-digit %g form
  }
}

TEST_CASE("[text] quote_for_message escapes control bytes and bad UTF-8 and cuts long text") {
  CHECK(quote_for_message(std::string_view("II*\0\x08", 5)) == "II*\\x00\\x08");
  CHECK(quote_for_message("tab\there\n") == "tab\\x09here\\x0a");
  CHECK(quote_for_message("grün \xC3\x97") == "grün \xC3\x97");  // valid UTF-8 kept
  CHECK(quote_for_message("bad \xC3(") == "bad \\xc3(");         // a cut sequence escaped
  CHECK(quote_for_message("\xF8\x88\x80\x80\x80") == "\\xf8\\x88\\x80\\x80\\x80");
  CHECK(quote_for_message("\xED\xA0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(quote_for_message("\xC0\xAF") == "\\xc0\\xaf");           // overlong '/'
  CHECK(quote_for_message(std::string(1000, 'x'), 10) == "xxxxxxxxxx... (990 more bytes)");
  CHECK(looks_binary(std::string_view("1 2\0 3", 6)));
  CHECK_FALSE(looks_binary("1 2\t3\r\n4 5 6\f\n"));
}

TEST_CASE("[text] format_matrix_as writes CSV rows and float32 values") {
  Matrix m;
  m.rows = 2;
  m.cols = 2;
  m.data = {1, -0.5, static_cast<double>(0.1f), 1e300};
  CHECK(format_matrix_as(m, {',', false}) == "1,-0.5\n0.10000000149011612,1e+300\n");
  m.data[3] = 3.5;
  CHECK(format_matrix_as(m, {' ', true}) == "1 -0.5\n0.1 3.5\n");
}

TEST_CASE("[text] json_string escapes every control byte and keeps exactly the valid UTF-8") {
  // Each single byte against the JSON grammar (RFC 8259 section 7).
  for (int b = 0; b < 256; ++b) {
    CAPTURE(b);
    char want[16];
    if (b == '"' || b == '\\')
      std::snprintf(want, sizeof want, "\"\\%c\"", b);
    else if (b == '\n' || b == '\r' || b == '\t')
      std::snprintf(want, sizeof want, "\"\\%c\"", b == '\n' ? 'n' : b == '\r' ? 'r' : 't');
    else if (b < 0x20 || b == 0x7F)
      std::snprintf(want, sizeof want, "\"\\u%04x\"", b);
    else if (b >= 0x80)  // a lone byte >= 0x80 is never UTF-8
      std::snprintf(want, sizeof want, "\"\\udc%02x\"", b);
    else
      std::snprintf(want, sizeof want, "\"%c\"", b);
    const char in[1] = {static_cast<char>(b)};
    CHECK(json_string(std::string_view(in, 1)) == want);
  }
  CHECK(json_string(std::string_view("a\0b", 3)) == "\"a\\u0000b\"");
  // Valid UTF-8 of 2, 3 and 4 bytes passes through whole.
  CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  // Overlong forms, surrogates, code points past U+10FFFF and cut sequences
  // are not: each of their bytes becomes \udcXX.
  CHECK(json_string("\xc0\x80") == "\"\\udcc0\\udc80\"");
  CHECK(json_string("\xed\xa0\x80") == "\"\\udced\\udca0\\udc80\"");
  CHECK(json_string("\xf4\x90\x80\x80") == "\"\\udcf4\\udc90\\udc80\\udc80\"");
  CHECK(json_string("\xe2\x82") == "\"\\udce2\\udc82\"");
  CHECK(json_string("\xe2\x82z") == "\"\\udce2\\udc82z\"");
}
