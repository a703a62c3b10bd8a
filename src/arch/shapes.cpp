// Shape inference, parameter counts and receptive fields for an Arch.
// The formulas are in convkit/arch.hpp; all arithmetic is 64-bit and checked.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "convkit/arch.hpp"
#include "convkit/engine.hpp"
#include "convkit/error.hpp"

namespace convkit {

namespace {

constexpr std::int64_t kMaxExtent = 1000000;

std::string label(const Arch& arch, std::size_t i) {
  const LayerSpec& l = arch.layers[i];
  std::string s = "layer " + std::to_string(i + 1) + " '" + l.text + "'";
  if (l.column < 1) return s;  // built in code, not parsed
  s += " (";
  if (l.line > 1) s += "line " + std::to_string(l.line) + ", ";
  return s + "column " + std::to_string(l.column) + ")";
}

struct Checked {
  const Arch& arch;
  std::size_t i;
  const char* what;
  std::int64_t mul(std::int64_t a, std::int64_t b) const {
    std::int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) overflow();
    return r;
  }
  std::int64_t add(std::int64_t a, std::int64_t b) const {
    std::int64_t r;
    if (__builtin_add_overflow(a, b, &r)) overflow();
    return r;
  }
  [[noreturn]] void overflow() const {
    throw UsageError(label(arch, i) + ": the " + what + " does not fit in 64 bits");
  }
};

const char* const kTimes = "\xC3\x97";  // ×

std::string window_name(const LayerSpec& l) {
  return std::to_string(l.kernel) + kTimes + std::to_string(l.kernel);
}

}  // namespace

std::string_view to_string(LayerKind k) {
  switch (k) {
    case LayerKind::conv:
      return "conv";
    case LayerKind::maxpool:
      return "maxpool";
    case LayerKind::avgpool:
      return "avgpool";
    case LayerKind::flatten:
      return "flatten";
    case LayerKind::fc:
      return "fc";
    case LayerKind::relu:
      return "relu";
    case LayerKind::gap:
      return "gap";
    case LayerKind::batchnorm:
      return "batchnorm";
    case LayerKind::dropout:
      return "dropout";
    case LayerKind::softmax:
      return "softmax";
  }
  return "?";
}

std::string format_shape(const Shape3& s, bool flat) {
  if (flat) return std::to_string(s.c);
  return std::to_string(s.w) + kTimes + std::to_string(s.h) + kTimes + std::to_string(s.c);
}

Shape3 parse_input_shape(std::string_view text) {
  const std::string shown(text);
  auto bad = [&](const std::string& why) -> UsageError {
    return UsageError(param("input") + " '" + shown + "': " + why +
                      " (expected W x H x C, e.g. 28x28x1, or W x H for one channel)");
  };
  std::vector<std::int64_t> v;
  std::size_t p = 0;
  for (;;) {
    std::size_t start = p;
    std::int64_t n = 0;
    while (p < text.size() && std::isdigit(static_cast<unsigned char>(text[p]))) {
      n = n * 10 + (text[p] - '0');
      if (n > kMaxExtent) throw bad("an extent is larger than " + std::to_string(kMaxExtent));
      ++p;
    }
    if (p == start) throw bad("expected a whole number at character " + std::to_string(p + 1));
    if (n < 1) throw bad("every extent must be at least 1");
    v.push_back(n);
    if (p == text.size()) break;
    if (text[p] == 'x' || text[p] == 'X' || text[p] == '*' || text[p] == ',')
      ++p;
    else if (text.substr(p, 2) == kTimes)
      p += 2;
    else
      throw bad("unexpected character at position " + std::to_string(p + 1));
    if (v.size() == 3) throw bad("too many extents");
  }
  if (v.size() < 2) throw bad("needs at least a width and a height");
  return Shape3{v[0], v[1], v.size() == 3 ? v[2] : 1};
}

ShapeReport infer_shapes(const Arch& arch, Shape3 input) {
  if (input.w < 1 || input.h < 1 || input.c < 1)
    throw UsageError("the input shape must be at least 1x1x1");
  ShapeReport rep;
  rep.input = input;
  Shape3 cur = input;
  bool flat = false;
  {
    Checked ck{arch, 0, "input size"};
    rep.total_activations = ck.mul(ck.mul(input.w, input.h), input.c);
  }
  for (std::size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& l = arch.layers[i];
    LayerShape s;
    s.input = cur;
    Checked size{arch, i, "activation count"};
    Checked par{arch, i, "parameter count"};
    Checked mac{arch, i, "multiply-accumulate count"};
    auto need_image = [&] {
      if (flat)
        throw UsageError(label(arch, i) + ": needs an image-shaped input (W" + kTimes + "H" +
                         kTimes + "C), but its input is a flat vector of " + std::to_string(cur.c) +
                         " values (after FLATTEN or FC)");
    };
    auto window = [&](std::int64_t n, const char* axis) -> std::int64_t {
      const Padding pd = l.padding();
      const bool across = axis[0] == 'w';
      const std::int64_t before = across ? pd.left : pd.top, after = across ? pd.right : pd.bottom;
      const std::int64_t out = window_output_length(n, before, after, l.kernel, l.stride);
      const std::string padded =
          l.asymmetric ? " + padding " + std::to_string(before) + " + " + std::to_string(after)
                       : " + 2" + std::string(kTimes) + "padding " + std::to_string(l.pad);
      if (out < 1)
        throw UsageError(label(arch, i) + ": the " + window_name(l) +
                         (l.kind == LayerKind::conv ? " kernel" : " window") +
                         " does not fit its " + format_shape(cur, false) + " input (" + axis + " " +
                         std::to_string(n) + padded + " < " + std::to_string(l.kernel) +
                         "): the output would be smaller than 1 pixel");
      return out;
    };
    switch (l.kind) {
      case LayerKind::conv: {
        need_image();
        if (l.filters < 1)
          throw UsageError(label(arch, i) +
                           ": the number of filters is needed for shapes and parameters (write "
                           "CONV" +
                           std::to_string(l.kernel) + "-F, e.g. CONV" + std::to_string(l.kernel) +
                           "-16)");
        Shape3 o{window(cur.w, "width"), window(cur.h, "height"), l.filters};
        std::int64_t kk = static_cast<std::int64_t>(l.kernel) * l.kernel;
        std::int64_t weights = par.mul(par.mul(kk, cur.c), l.filters);
        s.params = par.add(weights, l.filters);
        s.formula = std::to_string(l.kernel) + kTimes + std::to_string(l.kernel) + kTimes +
                    std::to_string(cur.c) + kTimes + std::to_string(l.filters) + " + " +
                    std::to_string(l.filters) + " = " + std::to_string(s.params);
        s.macs = mac.mul(mac.mul(mac.mul(o.w, o.h), l.filters), mac.mul(kk, cur.c));
        cur = o;
        break;
      }
      case LayerKind::maxpool:
      case LayerKind::avgpool:
        need_image();
        cur = Shape3{window(cur.w, "width"), window(cur.h, "height"), cur.c};
        break;
      case LayerKind::gap:
        need_image();
        cur = Shape3{1, 1, cur.c};
        break;
      case LayerKind::flatten:
        cur = Shape3{1, 1, size.mul(size.mul(cur.w, cur.h), cur.c)};
        flat = true;
        break;
      case LayerKind::fc: {
        std::int64_t in = size.mul(size.mul(cur.w, cur.h), cur.c);
        s.params = par.add(par.mul(in, l.filters), l.filters);
        s.formula = std::to_string(in) + kTimes + std::to_string(l.filters) + " + " +
                    std::to_string(l.filters) + " = " + std::to_string(s.params);
        s.macs = mac.mul(in, l.filters);
        cur = Shape3{1, 1, l.filters};
        flat = true;
        break;
      }
      case LayerKind::batchnorm:
        s.params = par.mul(2, cur.c);
        s.formula = "2";
        s.formula += kTimes;
        s.formula += std::to_string(cur.c) + " = " + std::to_string(s.params);
        break;
      case LayerKind::relu:
      case LayerKind::dropout:
      case LayerKind::softmax:
        break;
    }
    if (s.formula.empty()) s.formula.push_back('0');
    s.output = cur;
    s.flat = flat;
    s.activations = size.mul(size.mul(cur.w, cur.h), cur.c);
    rep.total_params = par.add(rep.total_params, s.params);
    rep.total_activations = size.add(rep.total_activations, s.activations);
    rep.total_macs = mac.add(rep.total_macs, s.macs);
    rep.layers.push_back(std::move(s));
  }
  return rep;
}

std::vector<LayerRF> receptive_fields(const Arch& arch) {
  std::vector<LayerRF> out;
  out.reserve(arch.layers.size());
  LayerRF cur;  // the input: each unit sees itself
  bool global = false;
  bool flat = false;  // after FLATTEN or FC: a window layer has no image to slide over
  for (std::size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& l = arch.layers[i];
    Checked ck{arch, i, "receptive field"};
    switch (l.kind) {
      case LayerKind::flatten:
      case LayerKind::fc:
        flat = true;
        global = true;
        break;
      case LayerKind::gap:
        global = true;
        break;
      case LayerKind::conv:
      case LayerKind::maxpool:
      case LayerKind::avgpool:
        if (flat)  // as infer_shapes refuses it
          throw UsageError(label(arch, i) +
                           ": needs an image-shaped input, but its input is a flat vector "
                           "(after FLATTEN or FC)");
        if (!global) {
          // r_l = r_{l-1} + (k_l - 1) j_{l-1};  u_l = u_{l-1} - p_l j_{l-1};  j_l = j_{l-1} s_l
          cur.rf = ck.add(cur.rf, ck.mul(l.kernel - 1, cur.jump));
          cur.start = ck.add(cur.start, -ck.mul(l.padding().top, cur.jump));
          cur.start_x = ck.add(cur.start_x, -ck.mul(l.padding().left, cur.jump));
          cur.jump = ck.mul(cur.jump, l.stride);
        }
        break;
      case LayerKind::relu:
      case LayerKind::batchnorm:
      case LayerKind::dropout:
      case LayerKind::softmax:
        break;  // element-wise: k = s = 1, p = 0
    }
    if (global)
      out.push_back(LayerRF{true, 0, 0, 0, 0});
    else
      out.push_back(cur);
  }
  return out;
}

}  // namespace convkit
