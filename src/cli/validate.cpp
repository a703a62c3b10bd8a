// Checks shared by every numeric option (see validate.hpp).
#include "cli/validate.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "convkit/io/text.hpp"

namespace convkit::cli {

namespace {

// The option's value as a double; false when it is not a number at all.
// Past double's range, 1e400 reads as infinity (refused as not finite) and
// 1e-400 as 0 or a denormal (so "--sigma 1e-400" is out of range, not 0).
bool read_double(const std::string& s, double& v) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range && p == e) {
    v = std::strtod(std::string(b, e).c_str(), nullptr);
    return true;
  }
  return ec == std::errc() && p == e && b != e;
}

std::string in_quotes(const std::string& s) {
  return "'" + quote_for_message(s) + "'";
}

}  // namespace

CLI::Validator finite_range(double lo, double hi, const std::string& words, bool open_lo,
                            bool open_hi) {
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        double v = 0;
        if (!read_double(s, v)) return in_quotes(s) + " is not a number; give " + words;
        if (!std::isfinite(v)) return in_quotes(s) + " is not a finite number; give " + words;
        if (v < lo || v > hi || (open_lo && v == lo) || (open_hi && v == hi))
          return in_quotes(s) + " is out of range; give " + words;
        return {};
      },
      "", "finite range");
}

CLI::Validator positive_finite() {
  return finite_range(0, HUGE_VAL, "a number greater than 0", true, false);
}

CLI::Validator any_finite() {
  return finite_range(-HUGE_VAL, HUGE_VAL, "a finite number", false, false);
}

CLI::Validator whole_range(long long lo, long long hi) {
  const std::string words =
      "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        const char* b = s.data();
        const char* e = b + s.size();
        if (b != e && *b == '+') ++b;
        long long v = 0;
        auto [p, ec] = std::from_chars(b, e, v);
        if (ec == std::errc::result_out_of_range)
          return in_quotes(s) + " is out of range; give " + words;
        if (ec != std::errc() || p != e || b == e) {
          double d = 0;
          if (read_double(s, d) && !std::isfinite(d))
            return in_quotes(s) + " is not a finite number; give " + words;
          return in_quotes(s) + " is not a whole number; give " + words;
        }
        if (v < lo || v > hi) return in_quotes(s) + " is out of range; give " + words;
        return {};
      },
      std::to_string(lo) + ".." + std::to_string(hi), "whole range");
}

CLI::Validator whole_one_of(std::vector<long long> allowed, const std::string& words) {
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        long long v = 0;
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc() && p == s.data() + s.size() &&
            std::find(allowed.begin(), allowed.end(), v) != allowed.end())
          return {};
        return in_quotes(s) + " is not allowed; give " + words;
      },
      "", "whole one of");
}

CLI::Validator bit_depth_one_of(std::vector<long long> allowed, const std::string& words) {
  const CLI::Validator one_of = whole_one_of(allowed, words);
  return CLI::Validator(
      [one_of](std::string& s) -> std::string {
        if (s == "32f" || s == "64f") s.pop_back();
        return one_of(s);
      },
      "", "bit depth");
}

}  // namespace convkit::cli
