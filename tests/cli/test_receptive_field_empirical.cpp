// `convkit receptive-field --empirical`: the field measured by
// back-propagation through the real layers, next to the closed form.
#include <doctest/doctest.h>

#include <string>

#include "support/run.hpp"

using convkit::test::run_convkit;

TEST_CASE("[cli] receptive-field --empirical agrees with the closed form") {
  // strided, pooled, even-kernel and circular layers; the closed form of
  // each line is worked out in the comment.
  const char* specs[] = {
      "CONV3 CONV3/s2 CONV3",                                      // 3, 5, 9
      "CONV3 POOL2 CONV3 MAXPOOL3/s2/p1",                          // 3, 4, 8, 12
      "CONV2 CONV2 CONV4/s2/p1 AVGPOOL2",                          // 2, 3, 6, 8
      "CONV2-3/circular ReLU CONV2-3/circular",                    // 2, 2, 3
      "CONV5/s2/circular CONV3/reflect BN DROPOUT SOFTMAX CONV1",  // 5, 9, 9, 9, 9, 9
  };
  const char* want[] = {"3 5 9", "3 4 8 12", "2 3 6 8", "2 2 3", "5 9 9 9 9 9"};
  for (int i = 0; i < 5; ++i) {
    CAPTURE(specs[i]);
    auto r = run_convkit({"receptive-field", specs[i], "--empirical", "--format", "csv"});
    REQUIRE(r.status == 0);
    // csv: index,layer,rf,jump,start,measured — rf and measured columns
    std::string rf_col, measured_col;
    std::size_t pos = r.out.find('\n') + 1;  // skip the header
    pos = r.out.find('\n', pos) + 1;         // skip the input row
    while (pos < r.out.size()) {
      const std::size_t end = r.out.find('\n', pos);
      const std::string line = r.out.substr(pos, end - pos);
      std::string cells[6];
      std::size_t a = 0;
      for (int c = 0; c < 6; ++c) {
        const std::size_t b = line.find(',', a);
        cells[c] = line.substr(a, b == std::string::npos ? std::string::npos : b - a);
        a = b == std::string::npos ? line.size() : b + 1;
      }
      CHECK(cells[2] == cells[5]);
      rf_col += (rf_col.empty() ? "" : " ") + cells[2];
      measured_col += (measured_col.empty() ? "" : " ") + cells[5];
      pos = end == std::string::npos ? r.out.size() : end + 1;
    }
    CHECK(measured_col == want[i]);
  }
}

TEST_CASE("[cli] receptive-field --empirical: json, global layers, limits") {
  auto r =
      run_convkit({"receptive-field", "CONV3 POOL2 GAP FC-3", "--empirical", "--format", "json"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("\"measured\": 4") != std::string::npos);
  CHECK(r.out.find("\"measured\": null") != std::string::npos);  // GAP, FC
  auto big = run_convkit({"receptive-field", "--layers", "400", "--kernel", "3", "--empirical"});
  CHECK(big.status == 2);
  CHECK(big.err.rfind("convkit: error: ", 0) == 0);
  CHECK(big.out.empty());
}
