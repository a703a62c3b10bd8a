// [arch] the architecture language: parsing, defaults, repeats, located errors.
#include <doctest/doctest.h>

#include <string>

#include "convkit/arch.hpp"
#include "convkit/error.hpp"

using namespace convkit;

namespace {

// The error a spec gives, with its mark; fails the test if it parses.
struct Caught {
  std::string what;
  SourceMark mark;
};
Caught parse_error(const std::string& spec) {
  try {
    parse_arch(spec);
  } catch (const ParseError& e) {
    Caught c{e.what(), {}};
    if (e.mark()) c.mark = *e.mark();
    return c;
  }
  FAIL("expected a ParseError for: " << spec);
  return {};
}

}  // namespace

TEST_CASE("[arch] the seed's 3(e) network parses with the seed's defaults") {
  Arch a = parse_arch("CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3");
  REQUIRE(a.layers.size() == 6);
  CHECK(a.layers[0].kind == LayerKind::conv);
  CHECK(a.layers[0].kernel == 3);
  CHECK(a.layers[0].filters == 10);
  CHECK(a.layers[0].stride == 1);
  CHECK(a.layers[0].pad == 1);
  CHECK(a.layers[0].border == Border::zero);
  CHECK(a.layers[1].kind == LayerKind::maxpool);
  CHECK(a.layers[1].kernel == 2);
  CHECK(a.layers[1].stride == 2);
  CHECK(a.layers[1].pad == 0);
  CHECK(a.layers[4].kind == LayerKind::flatten);
  CHECK(a.layers[5].kind == LayerKind::fc);
  CHECK(a.layers[5].filters == 3);
  CHECK(a.layers[2].text == "CONV3-10");
  CHECK(a.layers[2].column == 16);
}

TEST_CASE("[arch] separators: spaces, commas, -> and the Unicode arrow, any case") {
  Arch a = parse_arch("conv2-3/circular\xE2\x86\x92relu -> Conv2-3/CIRCULAR,ReLU ,gap->fc-3");
  REQUIRE(a.layers.size() == 6);
  CHECK(a.layers[0].kernel == 2);
  CHECK(a.layers[0].pad == 1);  // floor(2/2): CONV2 grows the size by one
  CHECK(a.layers[0].border == Border::circular);
  CHECK(a.layers[1].kind == LayerKind::relu);
  CHECK(a.layers[1].column == 18);  // counted in characters, the arrow is one
  CHECK(a.layers[2].border == Border::circular);
  CHECK(a.layers[4].kind == LayerKind::gap);
  CHECK(a.layers[5].filters == 3);
}

TEST_CASE("[arch] options, pooling variants, batchnorm, dropout, softmax") {
  Arch a = parse_arch(
      "CONV3-64/s2/p0 POOL3/s2 AVGPOOL2 MAXPOOL3/s1/p1 BN BatchNorm DROPOUT0.25 dropout "
      "Dropout-.1 SOFTMAX CONV5/reflect CONV1-8/replicate CONV3-2/symmetric");
  REQUIRE(a.layers.size() == 13);
  CHECK(a.layers[0].stride == 2);
  CHECK(a.layers[0].pad == 0);
  CHECK(a.layers[1].stride == 2);
  CHECK(a.layers[1].kernel == 3);
  CHECK(a.layers[2].kind == LayerKind::avgpool);
  CHECK(a.layers[2].stride == 2);
  CHECK(a.layers[3].pad == 1);
  CHECK(a.layers[3].stride == 1);
  CHECK(a.layers[4].kind == LayerKind::batchnorm);
  CHECK(a.layers[5].kind == LayerKind::batchnorm);
  CHECK(a.layers[6].rate == doctest::Approx(0.25));
  CHECK(a.layers[7].rate == doctest::Approx(0.5));
  CHECK(a.layers[8].rate == doctest::Approx(0.1));
  CHECK(a.layers[9].kind == LayerKind::softmax);
  CHECK(a.layers[10].filters == 0);  // geometry only
  CHECK(a.layers[10].pad == 2);
  CHECK(a.layers[10].border == Border::reflect);
  CHECK(a.layers[11].pad == 0);
  CHECK(a.layers[11].border == Border::replicate);
}

TEST_CASE("[arch] asymmetric CONV padding: /pB:A on both axes, /pT:B:L:R per side") {
  Arch a = parse_arch("CONV2-3/circular/p1:0 CONV3-2/p0:2:1:0/s2 CONV2-3/p1 POOL2");
  REQUIRE(a.layers.size() == 4);
  CHECK(a.layers[0].asymmetric);
  const Padding p0 = a.layers[0].padding();
  CHECK((p0.top == 1 && p0.bottom == 0 && p0.left == 1 && p0.right == 0));
  CHECK(a.layers[0].border == Border::circular);
  const Padding p1 = a.layers[1].padding();
  CHECK((p1.top == 0 && p1.bottom == 2 && p1.left == 1 && p1.right == 0));
  CHECK(a.layers[1].stride == 2);
  CHECK_FALSE(a.layers[2].asymmetric);
  const Padding p2 = a.layers[2].padding();
  CHECK((p2.top == 1 && p2.bottom == 1 && p2.left == 1 && p2.right == 1));
  const Padding p3 = a.layers[3].padding();
  CHECK((p3.top == 0 && p3.bottom == 0));
  auto error = [](const char* spec) {
    try {
      parse_arch(spec);
    } catch (const ParseError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("POOL2/p0:1").find("asymmetric padding '/p0:1' applies to CONV layers only") !=
        std::string::npos);
  CHECK(error("CONV2-3/p0:2").find("padding 2 in '/p0:2' must be smaller than the kernel size 2") !=
        std::string::npos);
  CHECK(error("CONV3-3/p0:1:1").find("expected /pB:A (before:after) or /pT:B:L:R") !=
        std::string::npos);
  CHECK(error("CONV3-3/p0:").find("expected /pB:A") != std::string::npos);
  CHECK(error("CONV3-3/p0:x").find("expected /pB:A") != std::string::npos);
  CHECK(error("CONV3-3/p1/p0:1").find("the padding is given twice") != std::string::npos);
  CHECK(error("CONV3-3/p0:1/p1").find("the padding is given twice") != std::string::npos);
}

TEST_CASE("[arch] repeats expand, nest, and keep each token's column") {
  Arch a = parse_arch("(CONV3-256 ReLU)x3 ((CONV3 POOL2)X2 BN) \xC3\x97 2 (FC-1)*1");
  // 6 + 2*(2*2+1) + 1
  REQUIRE(a.layers.size() == 17);
  CHECK(a.layers[0].filters == 256);
  CHECK(a.layers[1].kind == LayerKind::relu);
  CHECK(a.layers[4].kind == LayerKind::conv);
  CHECK(a.layers[4].column == 2);
  CHECK(a.layers[5].column == 12);
  CHECK(a.layers[6].kind == LayerKind::conv);
  CHECK(a.layers[10].kind == LayerKind::batchnorm);
  CHECK(a.layers[15].kind == LayerKind::batchnorm);
  CHECK(a.layers[16].kind == LayerKind::fc);
}

TEST_CASE("[arch] a file spans lines, with # comments, and errors name file:line:column") {
  Arch a = parse_arch("# LeNet\nCONV5-6/p0  # first\n  POOL2\n", "net.arch");
  REQUIRE(a.layers.size() == 2);
  CHECK(a.layers[1].line == 3);
  CHECK(a.layers[1].column == 3);
  try {
    parse_arch("CONV3-10\n  POOL2 BOGUS\n", "net.arch");
    FAIL("no error");
  } catch (const ParseError& e) {
    CHECK(std::string(e.what()).rfind("net.arch:2:9: unknown layer 'BOGUS'", 0) == 0);
    REQUIRE(e.mark());
    CHECK(e.mark()->line == "  POOL2 BOGUS");
    CHECK(e.mark()->column == 9);
    CHECK(e.mark()->width == 5);
  }
}

TEST_CASE("[arch] every malformed spec is a located error saying what was expected") {
  struct Case {
    const char* spec;
    int column, width;
    const char* says;
  };
  const Case cases[] = {
      {"", 1, 1, "empty architecture"},
      {"  # nothing", 1, 1, "empty architecture"},
      {"CONV3-10 CONVX POOL2", 14, 1, "expected the kernel size"},
      {"CONV3-10 WIBBLE POOL2", 10, 6, "unknown layer 'WIBBLE'"},
      {"CONV", 1, 4, "expected the kernel size"},
      {"CONV3-", 6, 1, "expected the number of filters"},
      {"CONV3-x", 6, 2, "expected the number of filters"},
      {"CONV0-3", 5, 1, "kernel size must be at least 1"},
      {"CONV3-0", 7, 1, "number of filters must be at least 1"},
      {"CONV3-10x", 9, 1, "unexpected 'x' after CONV"},
      {"CONV99999999999999999999-3", 5, 20, "kernel size 99999999999999999999 is too large"},
      {"CONV3-2000000", 7, 7, "filter count 2000000 is too large"},
      {"POOL", 1, 4, "expected the window size after POOL"},
      {"POOL2x2", 6, 2, "unexpected 'x2' after POOL"},
      {"FC", 1, 2, "expected the number of units"},
      {"FC-", 1, 3, "expected the number of units"},
      {"FC-0", 4, 1, "at least 1"},
      {"RELU6", 5, 1, "unexpected '6' after RELU"},
      {"DROPOUT1.5", 8, 3, "must be in [0, 1)"},
      {"DROPOUT1", 8, 1, "must be in [0, 1)"},
      {"DROPOUTx", 8, 1, "expected a dropout probability"},
      {"CONV3-10/", 9, 1, "expected an option after '/'"},
      {"CONV3-10/s0", 10, 2, "stride must be at least 1"},
      {"CONV3-10/s", 9, 2, "unknown option '/s'"},
      {"CONV3-10/s2x", 10, 3, "whole number"},
      {"CONV3-10/q2", 9, 3, "unknown option '/q2'"},
      {"CONV3-10/p3", 10, 2, "must be smaller than the kernel size 3"},
      {"CONV3-10/s2/s1", 12, 3, "stride is given twice"},
      {"CONV3-10/p0/p1", 12, 3, "padding is given twice"},
      {"CONV3-10/circular/zero", 18, 5, "padding mode is given twice"},
      {"POOL2/circular", 6, 9, "apply to CONV layers only"},
      {"POOL2/p2", 7, 2, "at most half the window"},
      {"RELU/s2", 5, 3, "RELU takes no options"},
      {"/s2", 1, 3, "expected a layer name before '/'"},
      {"(CONV3-10 RELU", 1, 1, "never closed"},
      {"CONV3-10 RELU)", 14, 1, "unmatched ')'"},
      {"(CONV3-10 RELU)", 15, 1, "expected a repeat count"},
      {"(CONV3-10 RELU) POOL2", 15, 1, "expected a repeat count"},
      {"(CONV3-10)x", 11, 1, "expected a repeat count"},
      {"(CONV3-10)x0", 12, 1, "repeat count must be at least 1"},
      {"(CONV3-10)x3y", 13, 1, "unexpected character after the repeat count"},
      {"(CONV3-10)x100000", 12, 6, "repeat count 100000 is too large"},
      {"((CONV3)x10000)x10000", 1, 21, "at most 100000"},
      {"()x2", 1, 2, "empty group"},
      {"CONV3\xE2\x80\x93"
       "10",
       6, 3,
       "unexpected '\xE2\x80\x93"
       "10' after CONV"},  // en dash
  };
  for (const auto& c : cases) {
    const std::string spec = c.spec;
    CAPTURE(spec);
    Caught e = parse_error(c.spec);
    CHECK(e.what.find(c.says) != std::string::npos);
    CHECK(e.what.find("column " + std::to_string(c.column)) != std::string::npos);
    CHECK(e.mark.column == c.column);
    CHECK(e.mark.width == c.width);
  }
}

TEST_CASE("[arch] deep nesting is refused, not a stack overflow") {
  std::string spec(40, '(');
  spec += "RELU";
  for (int i = 0; i < 40; ++i) spec += ")x1";
  Caught e = parse_error(spec);
  CHECK(e.what.find("nested too deeply") != std::string::npos);
}

TEST_CASE("[arch] a long line is clipped around the offending token in the mark") {
  std::string spec;
  for (int i = 0; i < 60; ++i) spec += "RELU ";
  spec += "BOGUS";
  for (int i = 0; i < 60; ++i) spec += " RELU";
  Caught e = parse_error(spec);
  CHECK(e.what.find("column 301: unknown layer 'BOGUS'") != std::string::npos);
  CHECK(e.mark.line.size() <= 110);
  CHECK(e.mark.line.rfind("...", 0) == 0);
  CHECK(e.mark.line.substr(e.mark.line.size() - 3) == "...");
  REQUIRE(e.mark.column >= 1);
  CHECK(e.mark.line.substr(static_cast<std::size_t>(e.mark.column - 1), 5) == "BOGUS");
  CHECK(e.mark.width == 5);
}
