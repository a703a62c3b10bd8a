#include <cmath>
#include <string>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/filters.hpp"
#include "convkit/io/text.hpp"

namespace convkit {

namespace {

void check_axis(const char* axis, int n, int k, int s) {
  if (n < 1)
    throw UsageError(std::string("input ") + axis + " is " + std::to_string(n) +
                     "; it must be at least 1");
  if (k < 1)
    throw UsageError(std::string("kernel ") + axis + " is " + std::to_string(k) +
                     "; it must be at least 1");
  if (s < 1)
    throw UsageError(std::string("stride along ") + axis + " is " + std::to_string(s) +
                     "; it must be at least 1");
}

}  // namespace

ConvGeometry plan(const ConvSpec& spec, int in_h, int in_w, int k_h, int k_w) {
  check_axis("height", in_h, k_h, spec.stride_y);
  check_axis("width", in_w, k_w, spec.stride_x);
  ConvGeometry g;
  g.in_h = in_h;
  g.in_w = in_w;
  g.k_h = k_h;
  g.k_w = k_w;
  g.stride_y = spec.stride_y;
  g.stride_x = spec.stride_x;
  g.correlate = spec.correlate;
  g.border = spec.border;
  if (!std::isfinite(spec.border.value))
    throw UsageError("the border value must be a finite number (got " +
                     format_number(spec.border.value) + ")");
  switch (spec.mode) {
    case SizeMode::pad:
      g.pad = spec.pad;
      if (g.pad.top < 0 || g.pad.bottom < 0 || g.pad.left < 0 || g.pad.right < 0)
        throw UsageError("padding must not be negative");
      break;
    case SizeMode::full:
      g.pad = {k_h - 1, k_h - 1, k_w - 1, k_w - 1};
      break;
    case SizeMode::same:
      // scipy.signal: the centre of `full`, starting at index (K-1)/2 of it.
      g.pad = {k_h - 1 - (k_h - 1) / 2, (k_h - 1) / 2, k_w - 1 - (k_w - 1) / 2, (k_w - 1) / 2};
      break;
    case SizeMode::valid:
      g.pad = {0, 0, 0, 0};
      break;
  }
  long long oh = window_output_length(in_h, g.pad.top, g.pad.bottom, k_h, spec.stride_y);
  long long ow = window_output_length(in_w, g.pad.left, g.pad.right, k_w, spec.stride_x);
  auto describe = [&](const char* axis, int n, int p0, int p1, int k) {
    return std::string(axis) + ": input " + std::to_string(n) + " + padding " + std::to_string(p0) +
           "+" + std::to_string(p1) + " is smaller than the kernel (" + std::to_string(k) + ")";
  };
  if (oh < 1)
    throw UsageError("the output would be empty along the height: " +
                     describe("height", in_h, g.pad.top, g.pad.bottom, k_h));
  if (ow < 1)
    throw UsageError("the output would be empty along the width: " +
                     describe("width", in_w, g.pad.left, g.pad.right, k_w));
  if (oh > (1LL << 30) || ow > (1LL << 30))
    throw UsageError("the output would be " + std::to_string(oh) + " x " + std::to_string(ow) +
                     ", more than the limit of " + std::to_string(1LL << 30) +
                     " samples along an axis");
  g.out_h = static_cast<int>(oh);
  g.out_w = static_cast<int>(ow);
  return g;
}

int border_index(long long i, int n, Border b) {
  if (i >= 0 && i < n) return static_cast<int>(i);
  switch (b) {
    case Border::zero:
      return -1;
    case Border::replicate:
      return i < 0 ? 0 : n - 1;
    case Border::circular: {
      long long r = i % n;
      return static_cast<int>(r < 0 ? r + n : r);
    }
    case Border::symmetric: {
      // period 2n: 0 1 .. n-1 n-1 .. 1 0
      long long p = 2LL * n;
      long long r = i % p;
      if (r < 0) r += p;
      return static_cast<int>(r < n ? r : p - 1 - r);
    }
    case Border::reflect: {
      if (n == 1) return 0;
      // period 2n-2: 0 1 .. n-1 n-2 .. 1
      long long p = 2LL * n - 2;
      long long r = i % p;
      if (r < 0) r += p;
      return static_cast<int>(r < n ? r : p - r);
    }
  }
  return -1;
}

std::string_view to_string(Border b) {
  return name_of(kBorderNames, b);
}

std::string_view to_string(SizeMode m) {
  return m == SizeMode::pad ? "pad" : name_of(kSizeModeNames, m);
}

Border parse_border(std::string_view name) {
  if (const auto b = find_name(kBorderNames, name)) return *b;
  std::string msg = "unknown padding mode '" + quote_for_message(name) +
                    "' (choose zero, circular, reflect, symmetric or replicate, or scipy's "
                    "constant, wrap, mirror, nearest)";
  throw UsageError(msg + did_you_mean(std::string(name), names_of(kBorderNames)));
}

std::string to_string(const BorderRule& b) {
  std::string s(to_string(b.rows));
  if (b.cols != b.rows) {
    s.push_back(',');
    s.append(to_string(b.cols));
  }
  if (b.uses_value() && b.value != 0) {
    s.append(" (value ");
    s.append(format_number(b.value));
    s.push_back(')');
  }
  return s;
}

BorderRule parse_border_rule(std::string_view text) {
  const std::size_t comma = text.find(',');
  if (comma == std::string_view::npos) return BorderRule(parse_border(text));
  const std::string_view rows = text.substr(0, comma), cols = text.substr(comma + 1);
  if (rows.empty() || cols.empty() || cols.find(',') != std::string_view::npos)
    throw UsageError("padding '" + quote_for_message(text) +
                     "': give one mode, or ROWS,COLS (two modes, e.g. reflect,constant)");
  return BorderRule(parse_border(rows), parse_border(cols));
}

SizeMode parse_size_mode(std::string_view name) {
  return parse_name(kSizeModeNames, name, "mode");
}

}  // namespace convkit
