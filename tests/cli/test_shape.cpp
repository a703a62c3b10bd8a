// [shape] convkit shape through the real binary: the seed's problem 3, classic
// networks with their published parameter counts, formats and errors.
#include <doctest/doctest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support/run.hpp"

using convkit::test::run_convkit;

namespace {

const std::string kSeed3e = "CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3";
const std::string kX = "\xC3\x97";  // ×

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      f.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  f.push_back(cur);
  return f;
}

// The CSV rows (header excluded) of `convkit shape SPEC -i INPUT --format csv`.
std::vector<std::vector<std::string>> shape_csv(const std::string& spec, const std::string& in) {
  auto r = run_convkit({"shape", spec, "--input", in, "--format", "csv"});
  REQUIRE(r.status == 0);
  std::vector<std::vector<std::string>> rows;
  auto ls = lines(r.out);
  REQUIRE(ls.size() >= 2);
  CHECK(ls[0] ==
        "layer,spec,kind,output_w,output_h,output_c,output,params,formula,activations,macs");
  for (std::size_t i = 1; i < ls.size(); ++i) rows.push_back(split_csv(ls[i]));
  return rows;
}

std::string dims(std::int64_t w, std::int64_t h, std::int64_t c) {
  return std::to_string(w) + kX + std::to_string(h) + kX + std::to_string(c);
}

// The seed's 3(a): the conv output size and weight/bias counts.
std::int64_t conv_out(std::int64_t n, std::int64_t k, std::int64_t p, std::int64_t s) {
  return (n - k + 2 * p) / s + 1;
}

// " s " (built by appending: GCC 12 warns falsely on `" " + s + " "`).
std::string spaced(const std::string& s) {
  std::string r(1, ' ');
  r += s;
  r += ' ';
  return r;
}

std::string total_params_line(const std::string& out) {
  for (const auto& l : lines(out))
    if (l.rfind("parameters ", 0) == 0) return l;
  return "";
}

}  // namespace

TEST_CASE("[shape] the seed's 3(e) table comes out with every dimension and formula") {
  auto r = run_convkit({"shape", kSeed3e, "--input", "28x28x1"});
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  auto ls = lines(r.out);
  REQUIRE(ls.size() >= 9);
  // The seed's table, row by row: layer, dimension of activations, parameters.
  struct Row {
    std::string layer, dim, formula;
  };
  const Row seed[] = {
      {"input", dims(28, 28, 1), "0"},
      {"CONV3-10", dims(28, 28, 10),
       "3" + kX + "3" + kX + "1" + kX + "10 + 10 = " + std::to_string(3 * 3 * 1 * 10 + 10)},
      {"POOL2", dims(14, 14, 10), "0"},
      {"CONV3-10", dims(14, 14, 10),
       "3" + kX + "3" + kX + "10" + kX + "10 + 10 = " + std::to_string(3 * 3 * 10 * 10 + 10)},
      {"POOL2", dims(7, 7, 10), "0"},
      {"FLATTEN", "490", "0"},
      {"FC-3", "3", "490" + kX + "3 + 3 = " + std::to_string(490 * 3 + 3)},
  };
  for (std::size_t i = 0; i < 7; ++i) {
    CAPTURE(i);
    std::istringstream row(ls[i + 1]);
    std::string layer, dim, formula_start;
    row >> layer >> dim;
    CHECK(layer == seed[i].layer);
    CHECK(dim == seed[i].dim);
    CHECK(ls[i + 1].find("  " + seed[i].formula + "  ") != std::string::npos);
  }
  const int total = (3 * 3 * 1 * 10 + 10) + (3 * 3 * 10 * 10 + 10) + (490 * 3 + 3);
  CHECK(ls[8].rfind("total", 0) == 0);
  CHECK(ls[8].find(spaced(std::to_string(total))) != std::string::npos);
  CHECK(total_params_line(r.out).find("2,483") != std::string::npos);
}

TEST_CASE("[shape] the seed's 3(e) in CSV: activations and MACs per layer") {
  auto rows = shape_csv(kSeed3e, "28x28x1");
  REQUIRE(rows.size() == 7);
  // activations = W'·H'·C'; MACs = W'·H'·F·K·K·C for CONV, in·out for FC
  const std::int64_t acts[] = {
      28 * 28 * 1, 28 * 28 * 10, 14 * 14 * 10, 14 * 14 * 10, 7 * 7 * 10, 490, 3};
  const std::int64_t macs[] = {0, 28 * 28 * 10 * 9 * 1, 0, 14 * 14 * 10 * 9 * 10, 0, 0, 490 * 3};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    REQUIRE(rows[i].size() == 11);
    CHECK(rows[i][9] == std::to_string(acts[i]));
    CHECK(rows[i][10] == std::to_string(macs[i]));
  }
  CHECK(rows[6][7] == "1473");
  CHECK(rows[5][2] == "flatten");
  CHECK(rows[5][6] == "490");
  CHECK(rows[5][3] == "1");
  CHECK(rows[5][5] == "490");
}

TEST_CASE("[shape] the seed's 3(a): conv output W' = floor((W-K+2P)/S)+1, K²CF weights, F biases") {
  struct Case {
    int w, h, c, k, f, s, p;
  };
  const Case cases[] = {{13, 11, 3, 5, 7, 2, 1},
                        {28, 28, 1, 3, 10, 1, 1},
                        {32, 17, 5, 4, 2, 3, 0},
                        {7, 9, 2, 2, 3, 1, 1},
                        {224, 224, 3, 7, 64, 2, 3}};
  for (const auto& t : cases) {
    std::string spec = "CONV" + std::to_string(t.k) + "-" + std::to_string(t.f) + "/s" +
                       std::to_string(t.s) + "/p" + std::to_string(t.p);
    CAPTURE(spec);
    auto rows = shape_csv(
        spec, std::to_string(t.w) + "x" + std::to_string(t.h) + "x" + std::to_string(t.c));
    REQUIRE(rows.size() == 2);
    std::int64_t wo = conv_out(t.w, t.k, t.p, t.s), ho = conv_out(t.h, t.k, t.p, t.s);
    CHECK(rows[1][3] == std::to_string(wo));
    CHECK(rows[1][4] == std::to_string(ho));
    CHECK(rows[1][5] == std::to_string(t.f));
    CHECK(rows[1][7] == std::to_string(t.k * t.k * t.c * t.f + t.f));
    CHECK(rows[1][10] == std::to_string(wo * ho * t.f * t.k * t.k * t.c));
  }
}

TEST_CASE("[shape] the seed's 3(b): pooling W' = (W-K)/S+1, C' = C, no parameters") {
  struct Case {
    std::string spec;
    int k, s;
  };
  for (const Case& c : {Case{"POOL3/s2", 3, 2}, Case{"POOL2", 2, 2}, Case{"AVGPOOL4/s1", 4, 1},
                        Case{"MAXPOOL3/s3", 3, 3}}) {
    const std::string& spec = c.spec;
    const int k = c.k, s = c.s;
    CAPTURE(spec);
    auto rows = shape_csv(spec, "17x12x4");
    REQUIRE(rows.size() == 2);
    CHECK(rows[1][3] == std::to_string((17 - k) / s + 1));
    CHECK(rows[1][4] == std::to_string((12 - k) / s + 1));
    CHECK(rows[1][5] == "4");
    CHECK(rows[1][7] == "0");
  }
}

TEST_CASE("[shape] the seed's 3(f): CONV2 with padding 1 grows the size, GAP, FC") {
  auto rows = shape_csv(
      "CONV2-3/circular \xE2\x86\x92 ReLU \xE2\x86\x92 CONV2-3/circular \xE2\x86\x92 "
      "ReLU \xE2\x86\x92 GAP \xE2\x86\x92 FC-3",
      "8x8x1");
  REQUIRE(rows.size() == 7);
  CHECK(rows[1][6] == dims(9, 9, 3));
  CHECK(rows[1][7] == std::to_string(2 * 2 * 1 * 3 + 3));
  CHECK(rows[2][6] == dims(9, 9, 3));
  CHECK(rows[3][6] == dims(10, 10, 3));
  CHECK(rows[3][7] == std::to_string(2 * 2 * 3 * 3 + 3));
  CHECK(rows[5][6] == dims(1, 1, 3));
  CHECK(rows[6][6] == "3");
  CHECK(rows[6][7] == std::to_string(3 * 3 + 3));
  CHECK(rows[6][8] == "3" + kX + "3 + 3 = 12");
}

TEST_CASE("[shape] classic networks have their published parameter counts") {
  SUBCASE("VGG-16 at 224x224x3: 138,357,544 parameters, 15.47 GMACs") {
    auto r = run_convkit({"shape",
                          "(CONV3-64 ReLU)x2 POOL2 (CONV3-128 ReLU)x2 POOL2 (CONV3-256 ReLU)x3 "
                          "POOL2 (CONV3-512 ReLU)x3 POOL2 (CONV3-512 ReLU)x3 POOL2 FLATTEN "
                          "FC-4096 ReLU DROPOUT FC-4096 ReLU DROPOUT FC-1000 SOFTMAX",
                          "--input", "224x224x3", "--format", "json"});
    REQUIRE(r.status == 0);
    CHECK(r.out.find("\"total_params\": 138357544,") != std::string::npos);
    // torchvision's table gives 15.47 G(MAC)s for VGG-16.
    auto at = r.out.find("\"total_macs\": ");
    REQUIRE(at != std::string::npos);
    long long macs = std::stoll(r.out.substr(at + 14));
    CHECK(macs / 10000000 == 1547);
    CHECK(r.out.find("\"output\": [7,7,512]") != std::string::npos);
  }
  SUBCASE("AlexNet (torchvision) at 224x224x3: 61,100,840 parameters, 0.71 GMACs") {
    auto r = run_convkit({"shape",
                          "CONV11-64/s4/p2 ReLU POOL3/s2 CONV5-192 ReLU POOL3/s2 CONV3-384 ReLU "
                          "CONV3-256 ReLU CONV3-256 ReLU POOL3/s2 DROPOUT FC-4096 ReLU DROPOUT "
                          "FC-4096 ReLU FC-1000",
                          "--input", "224x224x3", "--format", "json"});
    REQUIRE(r.status == 0);
    CHECK(r.out.find("\"total_params\": 61100840,") != std::string::npos);
    auto at = r.out.find("\"total_macs\": ");
    REQUIRE(at != std::string::npos);
    CHECK(std::stoll(r.out.substr(at + 14)) / 10000000 == 71);
    CHECK(r.out.find("\"output\": [6,6,256]") != std::string::npos);
  }
  SUBCASE("LeNet-5 at 32x32x1: 61,706 parameters") {
    auto r = run_convkit(
        {"shape", "CONV5-6/p0 POOL2 CONV5-16/p0 POOL2 FC-120 FC-84 FC-10", "--input", "32x32x1"});
    REQUIRE(r.status == 0);
    CHECK(total_params_line(r.out).find("61,706") != std::string::npos);
  }
}

TEST_CASE("[shape] batchnorm counts 2C parameters, dropout and softmax none") {
  auto rows = shape_csv("CONV3-8 BN ReLU DROPOUT0.3 FLATTEN FC-5 BN SOFTMAX", "6x6x2");
  REQUIRE(rows.size() == 9);
  CHECK(rows[2][7] == "16");
  CHECK(rows[2][8] == "2" + kX + "8 = 16");
  CHECK(rows[4][7] == "0");
  CHECK(rows[7][7] == "10");
  CHECK(rows[8][7] == "0");
  CHECK(rows[8][6] == "5");
}

TEST_CASE("[shape] FC on an image-shaped input flattens implicitly") {
  auto rows = shape_csv("CONV3-4 FC-10", "5x5x1");
  REQUIRE(rows.size() == 3);
  CHECK(rows[2][8] == "100" + kX + "10 + 10 = 1010");
}

TEST_CASE("[shape] totals: activation memory for one input and a batch, FLOPs = 2 MACs") {
  auto r = run_convkit({"shape", kSeed3e, "-i", "28x28x1", "--batch", "64", "--format", "json"});
  REQUIRE(r.status == 0);
  const long long acts = 784 + 7840 + 1960 + 1960 + 490 + 490 + 3;
  const long long macs = 28 * 28 * 10 * 9 + 14 * 14 * 10 * 90 + 490 * 3;
  CHECK(r.out.find("\"total_activations\": " + std::to_string(acts) + ",") != std::string::npos);
  CHECK(r.out.find("\"activation_bytes\": " + std::to_string(4 * acts) + ",") != std::string::npos);
  CHECK(r.out.find("\"batch_activation_bytes\": " + std::to_string(64 * 4 * acts) + ",") !=
        std::string::npos);
  CHECK(r.out.find("\"total_macs\": " + std::to_string(macs) + ",") != std::string::npos);
  CHECK(r.out.find("\"total_flops\": " + std::to_string(2 * macs) + ",") != std::string::npos);
  CHECK(r.out.find("\"batch\": 64,") != std::string::npos);
  CHECK(r.out.find("\"input\": [28,28,1]") != std::string::npos);
  CHECK(r.out.find("{\"spec\": \"FC-3\", \"kind\": \"fc\", \"output\": [1,1,3]") !=
        std::string::npos);

  auto t = run_convkit({"shape", kSeed3e, "-i", "28x28x1", "--batch", "64"});
  REQUIRE(t.status == 0);
  CHECK(t.out.find("batch of 64: 865,728 values") != std::string::npos);
  CHECK(t.out.find("(2·MACs: a multiply and an add each)") != std::string::npos);
}

TEST_CASE("[shape] markdown is a pipe table with the formulas") {
  auto r = run_convkit({"shape", kSeed3e, "-i", "28x28", "--format", "markdown"});
  REQUIRE(r.status == 0);
  auto ls = lines(r.out);
  REQUIRE(ls.size() > 3);
  CHECK(ls[0] == "| layer | output | parameters | activations | MACs |");
  CHECK(ls[1] == "| --- | --- | --- | ---: | ---: |");
  CHECK(ls[2] == "| input | " + dims(28, 28, 1) + " | 0 | 784 | 0 |");
  CHECK(r.out.find("| FC-3 | 3 | 490" + kX + "3 + 3 = 1473 | 3 | 1470 |") != std::string::npos);
}

TEST_CASE("[shape] the architecture can come from a file with comments") {
  auto dir = convkit::test::temp_dir();
  convkit::test::write_file(dir + "/net.arch",
                            "# the seed's 3(e)\nCONV3-10 POOL2   # block 1\nCONV3-10 POOL2\n\n"
                            "FLATTEN -> FC-3\n");
  auto a = run_convkit({"shape", "--arch-file", dir + "/net.arch", "-i", "28x28x1"});
  auto b = run_convkit({"shape", kSeed3e, "-i", "28x28x1"});
  REQUIRE(a.status == 0);
  CHECK(a.out == b.out);
  // Unquoted words on the command line are joined.
  auto c = run_convkit(
      {"shape", "CONV3-10", "POOL2", "CONV3-10", "POOL2", "FLATTEN", "FC-3", "-i", "28x28x1"});
  CHECK(c.out == b.out);
}

// ---- errors -------------------------------------------------------------------

TEST_CASE("[shape] a malformed SPEC shows the spec and a caret under the token, exit 2") {
  auto r = run_convkit({"shape", "CONV3-10 POOL2 WIBBLE FC-3", "-i", "28x28x1"});
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  auto ls = lines(r.err);
  REQUIRE(ls.size() == 3);
  CHECK(ls[0].rfind("convkit: error: SPEC, column 16: unknown layer 'WIBBLE'", 0) == 0);
  CHECK(ls[1] == "  CONV3-10 POOL2 WIBBLE FC-3");
  CHECK(ls[2] == "                 ^^^^^^");
}

TEST_CASE("[shape] the caret counts characters, not bytes, after a Unicode arrow") {
  auto r = run_convkit({"shape", "CONV3-10 \xE2\x86\x92 POOL2/x", "-i", "28x28x1"});
  CHECK(r.status == 2);
  auto ls = lines(r.err);
  REQUIRE(ls.size() == 3);
  CHECK(ls[0].find("column 17: unknown option '/x'") != std::string::npos);
  CHECK(ls[2] == std::string(2 + 16, ' ') + "^^");
}

TEST_CASE("[shape] a malformed --arch-file names file, line and column, exit 1") {
  auto dir = convkit::test::temp_dir();
  convkit::test::write_file(dir + "/bad.arch", "# net\nCONV3-10\n  POOL2 FC-\n");
  auto r = run_convkit({"shape", "--arch-file", dir + "/bad.arch", "-i", "28x28x1"});
  CHECK(r.status == 1);
  auto ls = lines(r.err);
  REQUIRE(ls.size() == 3);
  CHECK(ls[0] == "convkit: error: " + dir +
                     "/bad.arch:3:9: expected the number of units after FC, e.g. FC-10");
  CHECK(ls[1] == "    POOL2 FC-");
  CHECK(ls[2] == "          ^^^");
  auto missing = run_convkit({"shape", "--arch-file", dir + "/nope.arch", "-i", "28x28x1"});
  CHECK(missing.status == 1);
  CHECK(missing.err.find("nope.arch: cannot open") != std::string::npos);
}

TEST_CASE("[shape] a network that does not fit its input names the layer and why") {
  auto r = run_convkit({"shape", "CONV3-10 POOL2 POOL2 POOL2 POOL2 POOL2", "-i", "28x28x1"});
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "convkit: error: layer 6 'POOL2' (column 34): the 2" + kX +
                     "2 window does not fit its 1" + kX + "1" + kX + "10 input (width 1 + 2" + kX +
                     "padding 0 < 2): the output would be smaller than 1 "
                     "pixel\n");
  auto k = run_convkit({"shape", "CONV7-4/p0", "-i", "5x9x1"});
  CHECK(k.status == 2);
  CHECK(k.err.find("layer 1 'CONV7-4/p0' (column 1): the 7" + kX + "7 kernel does not fit") !=
        std::string::npos);
}

TEST_CASE("[shape] other refusals are one clear line") {
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string says;
  };
  const Case cases[] = {
      {{"shape", "CONV3 POOL2", "-i", "8x8"},
       2,
       "layer 1 'CONV3' (column 1): the number of filters"},
      {{"shape", "FLATTEN CONV3-2", "-i", "8x8"}, 2, "needs an image-shaped input"},
      {{"shape", "FC-3 GAP", "-i", "8x8"}, 2, "needs an image-shaped input"},
      {{"shape", "CONV3-2"}, 2, "--input"},
      {{"shape", "-i", "8x8"}, 2, "no network given"},
      {{"shape", "RELU", "--arch-file", "x.arch", "-i", "8x8"}, 2, "not both"},
      {{"shape", "RELU", "-i", "8x0x1"}, 2, "at least 1"},
      {{"shape", "RELU", "-i", "8"}, 2, "needs at least a width and a height"},
      {{"shape", "RELU", "-i", "8x8x1x1"}, 2, "too many extents"},
      {{"shape", "RELU", "-i", "8y8"}, 2, "unexpected character"},
      {{"shape", "RELU", "-i", "99999999999999999999x8"}, 2, "larger than 1000000"},
      {{"shape", "RELU", "-i", "8x8", "--format", "yaml"}, 2, "--format"},
      {{"shape", "RELU", "-i", "8x8", "--batch", "0"}, 2, "--batch"},
      // 64-bit overflow is refused, not wrapped
      {{"shape", "(CONV65535-1000000/p32767)x3", "-i", "1000000x1000000x1000000"},
       2,
       "does not fit in 64 bits"},
      {{"shape", "FC-1000000", "-i", "1000000x1000000x1000000"}, 2, "does not fit in 64 bits"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args[1]);
    auto r = run_convkit(c.args);
    CHECK(r.status == c.status);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("convkit: error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find(c.says) != std::string::npos);
  }
}

TEST_CASE("[shape] --help shows the layer language and examples") {
  auto r = run_convkit({"shape", "--help"});
  CHECK(r.status == 0);
  CHECK(r.out.find("CONVk-F") != std::string::npos);
  CHECK(
      r.out.find("convkit shape \"CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3\" --input 28x28x1") !=
      std::string::npos);
}
