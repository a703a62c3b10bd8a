// cli/number_list.hpp — flag values that are lists of numbers ("1,2.5,-3")
// or matrix literals ("[1 0.8; 0.8 1]").
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/io/text.hpp"

namespace convkit::cli {

/// "1.5" or "1,2,3" (spaces allowed around commas); finite numbers only.
inline std::vector<double> parse_number_list(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::string f =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.erase(0, 1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.pop_back();
    const char* b = f.data();
    const char* e = b + f.size();
    if (b != e && *b == '+') ++b;
    double v = 0;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || p != e || b == e || !std::isfinite(v))
      throw UsageError(flag + ": '" + f + "' is not a number (expected e.g. 1.5 or 1,2,3)");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

/// A matrix flag value such as "[1 0.8; 0.8 1]" (io's parse_matrix); errors are usage errors.
inline Matrix parse_matrix_flag(const std::string& text, const std::string& flag) {
  try {
    return parse_matrix(text, flag);
  } catch (const ParseError& e) {
    throw UsageError(e.what());
  }
}

}  // namespace convkit::cli
