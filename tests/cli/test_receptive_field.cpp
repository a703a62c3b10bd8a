// [receptive-field] convkit receptive-field through the real binary: the
// seed's 3(c) and 3(d), published receptive fields of classic networks.
#include <doctest/doctest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support/run.hpp"

using convkit::test::run_convkit;

namespace {

struct RFRow {
  std::string spec;
  std::string rf, jump, start;
};

// Rows (input excluded) of `convkit receptive-field ARGS --format csv`.
std::vector<RFRow> rf_csv(std::vector<std::string> args) {
  args.insert(args.begin(), "receptive-field");
  args.push_back("--format");
  args.push_back("csv");
  auto r = run_convkit(args);
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);
  CHECK(line == "index,layer,rf,jump,start");
  std::getline(in, line);
  CHECK(line == "0,input,1,1,0");
  std::vector<RFRow> rows;
  while (std::getline(in, line)) {
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
    REQUIRE(f.size() == 5);
    rows.push_back({f[1], f[2], f[3], f[4]});
  }
  return rows;
}

const std::string kVGG16 =
    "(CONV3-64 ReLU)x2 POOL2 (CONV3-128 ReLU)x2 POOL2 (CONV3-256 ReLU)x3 POOL2 "
    "(CONV3-512 ReLU)x3 POOL2 (CONV3-512 ReLU)x3 POOL2 FLATTEN FC-4096 ReLU DROPOUT FC-4096 "
    "ReLU DROPOUT FC-1000 SOFTMAX";

}  // namespace

TEST_CASE("[receptive-field] the seed's 3(c): L stride-1 layers of size K see L(K-1)+1") {
  for (int L : {1, 2, 5, 17})
    for (int K : {1, 2, 3, 7}) {
      CAPTURE(L);
      CAPTURE(K);
      auto rows = rf_csv({"--layers", std::to_string(L), "--kernel", std::to_string(K)});
      REQUIRE(rows.size() == static_cast<std::size_t>(L));
      CHECK(rows.back().rf == std::to_string(L * (K - 1) + 1));
      CHECK(rows.back().jump == "1");
      // the same stack written in the language
      std::string spec;
      for (int i = 0; i < L; ++i) spec += "CONV" + std::to_string(K) + " ";
      auto same = rf_csv({spec});
      CHECK(same.back().rf == rows.back().rf);
    }
}

TEST_CASE(
    "[receptive-field] the seed's 3(d): a 2x2 stride-2 pool doubles how fast the field grows") {
  auto rows = rf_csv({"CONV3 CONV3 POOL2 CONV3 CONV3 POOL2 CONV3"});
  REQUIRE(rows.size() == 7);
  auto rf = [&](int i) { return std::stoll(rows[static_cast<std::size_t>(i)].rf); };
  const long long before = rf(1) - rf(0);  // growth per CONV3 before the pool
  CHECK(before == 2);
  CHECK(rf(4) - rf(3) == 2 * before);
  CHECK(rf(6) - rf(5) == 4 * before);
  CHECK(rows[2].jump == "2");
  CHECK(rows[5].jump == "4");
}

TEST_CASE("[receptive-field] the --layers shortcut with a stride") {
  // r = 1 + sum_l (K-1) S^(l-1); jump = S^L
  auto rows = rf_csv({"--layers", "4", "--kernel", "3", "--stride", "2"});
  REQUIRE(rows.size() == 4);
  CHECK(rows[3].rf == std::to_string(1 + 2 * (1 + 2 + 4 + 8)));
  CHECK(rows[3].jump == "16");
  CHECK(rows[3].start == std::to_string(-(1 + 2 + 4 + 8)));
  CHECK(rows[0].spec == "CONV3/s2");
}

TEST_CASE("[receptive-field] VGG-16 matches the published receptive fields") {
  // google-research/receptive_field RECEPTIVE_FIELD_TABLE.md (TF-Slim vgg_16):
  // end-point, RF, effective stride, effective padding (= -start).
  auto rows = rf_csv({kVGG16});
  struct End {
    int index;  // 0-based row of our expanded spec
    const char* rf;
    const char* jump;
    const char* start;
  };
  const End published[] = {
      {0, "3", "1", "-1"},       // conv1_1
      {4, "6", "2", "-2"},       // pool1
      {5, "10", "2", "-4"},      // conv2_1
      {9, "16", "4", "-6"},      // pool2
      {10, "24", "4", "-10"},    // conv3_1
      {12, "32", "4", "-14"},    // conv3_2
      {16, "44", "8", "-18"},    // pool3
      {17, "60", "8", "-26"},    // conv4_1
      {19, "76", "8", "-34"},    // conv4_2
      {23, "100", "16", "-42"},  // pool4
      {24, "132", "16", "-58"},  // conv5_1
      {26, "164", "16", "-74"},  // conv5_2
      {28, "196", "16", "-90"},  // conv5_3 (the often-quoted 196)
      {30, "212", "32", "-90"},  // pool5
  };
  for (const auto& e : published) {
    CAPTURE(e.index);
    CHECK(rows[static_cast<std::size_t>(e.index)].rf == e.rf);
    CHECK(rows[static_cast<std::size_t>(e.index)].jump == e.jump);
    CHECK(rows[static_cast<std::size_t>(e.index)].start == e.start);
  }
  CHECK(rows[30].spec == "POOL2");
  CHECK(rows[31].spec == "FLATTEN");
  CHECK(rows[31].rf.empty());  // the whole input
}

TEST_CASE("[receptive-field] AlexNet v2 matches the published receptive field 195") {
  // TF-Slim alexnet_v2: pool5 RF 195, effective stride 32, effective padding 64.
  auto rows =
      rf_csv({"CONV11-64/s4/p0 POOL3/s2 CONV5-192 POOL3/s2 CONV3-384 CONV3-384 CONV3-256 "
              "POOL3/s2"});
  REQUIRE(rows.size() == 8);
  CHECK(rows[0].rf == "11");
  CHECK(rows[1].rf == "19");
  CHECK(rows[6].rf == "163");
  CHECK(rows[6].start == "-64");
  CHECK(rows[7].rf == "195");
  CHECK(rows[7].jump == "32");
  CHECK(rows[7].start == "-64");
}

TEST_CASE("[receptive-field] JSON has rf, jump and start per layer; global layers are null") {
  auto r = run_convkit({"receptive-field", "CONV3-8 POOL2 GAP FC-2", "--format", "json"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("\"layers\": [") != std::string::npos);
  CHECK(r.out.find("{\"spec\": \"CONV3-8\", \"rf\": 3, \"jump\": 1, \"start\": -1, \"global\": "
                   "false}") != std::string::npos);
  CHECK(r.out.find("{\"spec\": \"POOL2\", \"rf\": 4, \"jump\": 2, \"start\": -1") !=
        std::string::npos);
  CHECK(r.out.find("{\"spec\": \"GAP\", \"rf\": null, \"jump\": null, \"start\": null, "
                   "\"global\": true}") != std::string::npos);
}

TEST_CASE("[receptive-field] --input adds output sizes and checks the network fits") {
  auto r =
      run_convkit({"receptive-field", "CONV3 POOL2 CONV5/p0", "-i", "12x10", "--format", "json"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("\"output\": [12,10]") != std::string::npos);
  CHECK(r.out.find("\"output\": [6,5]") != std::string::npos);
  CHECK(r.out.find("\"output\": [2,1]") != std::string::npos);
  auto bad = run_convkit({"receptive-field", "CONV3 POOL2 CONV7/p0", "-i", "12x10"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("layer 3 'CONV7/p0'") != std::string::npos);
}

TEST_CASE("[receptive-field] table and markdown formats") {
  auto t = run_convkit({"receptive-field", "CONV3 POOL2 FC-2"});
  REQUIRE(t.status == 0);
  CHECK(t.out.rfind("layer", 0) == 0);
  CHECK(t.out.find("whole input") != std::string::npos);
  auto m = run_convkit({"receptive-field", "CONV3 POOL2", "--format", "markdown"});
  REQUIRE(m.status == 0);
  CHECK(m.out.rfind("| layer | rf | jump | start |\n| --- | ---: | ---: | ---: |\n| input | 1 | 1 "
                    "| 0 |\n| CONV3 | 3 | 1 | -1 |\n| POOL2 | 4 | 2 | -1 |\n",
                    0) == 0);
}

TEST_CASE("[receptive-field] bad requests are one-line errors (a bad SPEC adds a caret)") {
  auto r = run_convkit({"receptive-field", "CONV3 POOL"});
  CHECK(r.status == 2);
  CHECK(r.err.rfind("convkit: error: SPEC, column 7: expected the window size after POOL", 0) == 0);
  CHECK(r.err.find("\n  CONV3 POOL\n        ^^^^\n") != std::string::npos);
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const Case cases[] = {
      {{"receptive-field"}, "no network given"},
      {{"receptive-field", "--layers", "3"}, "--kernel"},
      {{"receptive-field", "--kernel", "3"}, "--layers"},
      {{"receptive-field", "CONV3", "--layers", "3", "--kernel", "3"}, "not several"},
      {{"receptive-field", "--layers", "0", "--kernel", "3"}, "--layers"},
      {{"receptive-field", "--layers", "3", "--kernel", "3", "--stride", "0"}, "--stride"},
      {{"receptive-field", "--layers", "100000", "--kernel", "65535", "--stride", "65535"},
       "does not fit in 64 bits"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.says);
    auto e = run_convkit(c.args);
    CHECK(e.status == 2);
    CHECK(e.out.empty());
    CHECK(e.err.rfind("convkit: error: ", 0) == 0);
    CHECK(e.err.find('\n') == e.err.size() - 1);
    CHECK(e.err.find(c.says) != std::string::npos);
  }
}
