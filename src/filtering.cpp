// Blur and edge filters: masks plus engine calls (see convkit/filtering.hpp).
#include "convkit/filtering.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <type_traits>

#include "convkit/error.hpp"
#include "convkit/io/text.hpp"
#include "convkit/parallel.hpp"
#include "sobel.hpp"

namespace convkit {

namespace {

void check_odd_size(int size, const char* what) {
  if (size < 1 || size % 2 == 0)
    throw UsageError(std::string(what) + " size " + std::to_string(size) +
                     " is not allowed; it must be odd and at least 1 (3, 5, 7, ...)");
  if (size > 4095)
    throw UsageError(std::string(what) + " size " + std::to_string(size) +
                     " is too large (at most 4095)");
}

// One engine call: correlate a plane with a kh x kw mask, same-size output,
// in the samples' own precision (T float or double).
template <class T>
void engine_pass(const T* in, int h, int w, const std::vector<T>& mask, int kh, int kw,
                 BorderRule border, T* out, Schedule schedule = Schedule::automatic) {
  ConvSpec spec;
  spec.correlate = true;
  spec.mode = SizeMode::same;
  spec.border = border;
  ConvGeometry g = plan(spec, h, w, kh, kw);
  conv2d<T>(View<const T>{in, h, w, w}, View<const T>{mask.data(), kh, kw, kw}, g,
            View<T>{out, h, w, w}, schedule);
}

template <class T>
std::vector<T> taps_as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// Planes 0..colour-1 are colour; an alpha plane (last) is copied.
int colour_channels(const Image& img) {
  return img.has_alpha() ? img.channels - 1 : img.channels;
}

void check_image(const Image& in) {
  if (in.width < 1 || in.height < 1 || in.channels < 1 ||
      in.sample_count() != static_cast<std::size_t>(in.width) * in.height * in.channels)
    throw Error("the image is empty or its pixel buffer does not match its size");
}

// Shapes `out` like `in` with samples of type T (reusing its buffer when the
// size already matches) and copies the alpha plane, which filters pass through.
template <class T>
void same_shape(const Image& in, int bit_depth, Image& out) {
  out.width = in.width;
  out.height = in.height;
  out.channels = in.channels;
  out.bit_depth = bit_depth;
  const std::size_t size = in.sample_count();
  std::vector<T>& buf = out.samples<T>();
  if (buf.size() != size) {
    buf.clear();
    buf.resize(size);
  }
  if constexpr (std::is_same_v<T, double>)
    out.data.clear();
  else
    out.data64.clear();
  if (in.has_alpha()) {
    const std::size_t n = static_cast<std::size_t>(in.width) * in.height;
    const T* a = in.plane_of<T>(in.channels - 1);
    std::copy(a, a + n, out.plane_of<T>(in.channels - 1));
  }
}

}  // namespace

int gaussian_size_for_sigma(double sigma) {
  if (!(sigma > 0) || !std::isfinite(sigma))
    throw UsageError("sigma must be a positive number (got " + format_number(sigma) + ")");
  if (sigma > 600)
    throw UsageError("sigma " + format_number(sigma) + " is too large (at most 600)");
  return 2 * static_cast<int>(std::ceil(3 * sigma)) + 1;
}

double gaussian_sigma_for_size(int size) {
  check_odd_size(size, "gaussian");
  return 0.3 * ((size - 1) * 0.5 - 1) + 0.8;
}

std::vector<double> gaussian_taps(int size, double sigma) {
  check_odd_size(size, "gaussian");
  if (!(sigma > 0) || !std::isfinite(sigma))
    throw UsageError("sigma must be a positive number (got " + format_number(sigma) + ")");
  std::vector<double> t(static_cast<std::size_t>(size));
  const int r = (size - 1) / 2;
  double sum = 0;
  for (int i = 0; i < size; ++i) {
    double x = i - r;
    // (x / sigma)^2, not x^2 / sigma^2: a tiny sigma (1e-200) squares to 0
    // and would give 0/0 at the centre; this way it is exactly the identity.
    const double q = x / sigma;
    t[static_cast<std::size_t>(i)] = std::exp(-0.5 * q * q);
    sum += t[static_cast<std::size_t>(i)];
  }
  for (double& v : t) v /= sum;
  return t;
}

std::vector<double> box_taps(int size) {
  check_odd_size(size, "box");
  return std::vector<double>(static_cast<std::size_t>(size), 1.0 / size);
}

std::string_view to_string(EdgeOperator op) {
  return name_of(kEdgeOperatorNames, op);
}

std::string_view to_string(EdgeDirection d) {
  return name_of(kEdgeDirectionNames, d);
}

std::string_view to_string(BlurType t) {
  return name_of(kBlurTypeNames, t);
}

EdgeOperator parse_edge_operator(std::string_view name) {
  return parse_name(kEdgeOperatorNames, name, "edge operator");
}

EdgeDirection parse_edge_direction(std::string_view name) {
  return parse_name(kEdgeDirectionNames, name, "edge direction");
}

BlurType parse_blur_type(std::string_view name) {
  return parse_name(kBlurTypeNames, name, "blur type");
}

SeparableMask derivative_mask(EdgeOperator op, bool along_x, int ksize) {
  if (ksize != 3) return sobel_mask(op, along_x, ksize);
  std::vector<double> smooth;
  switch (op) {
    case EdgeOperator::sobel:
      smooth = {1, 2, 1};
      break;
    case EdgeOperator::prewitt:
      smooth = {1, 1, 1};
      break;
    case EdgeOperator::scharr:
      smooth = {3, 10, 3};
      break;
    case EdgeOperator::laplacian:
    case EdgeOperator::log:
    case EdgeOperator::dog:
      throw UsageError("the Laplacian and the Gaussian operators have no x/y derivative masks");
  }
  std::vector<double> diff = {-1, 0, 1};
  return along_x ? SeparableMask{smooth, diff} : SeparableMask{diff, smooth};
}

std::vector<double> laplacian_mask() {
  return {0, 1, 0, 1, -4, 1, 0, 1, 0};
}

double edge_gain(EdgeOperator op, int ksize) {
  if (ksize != 3) {
    const SeparableMask m = sobel_mask(op, true, ksize);
    double smooth = 0, rise = 0;
    for (double v : m.col) smooth += v;
    for (double v : m.row) rise += std::max(v, 0.0);
    return smooth * rise;
  }
  switch (op) {
    case EdgeOperator::sobel:
      return 4;
    case EdgeOperator::prewitt:
      return 3;
    case EdgeOperator::scharr:
      return 16;
    case EdgeOperator::laplacian:
      return 4;
    case EdgeOperator::log:
    case EdgeOperator::dog:
      throw UsageError("the gain of log and dog depends on sigma: use edge_gain(EdgeOptions)");
  }
  return 1;
}

namespace {

template <class T>
void run_pass(const T* in, int h, int w, const PlanePass& p, const BorderRule& border, T* out) {
  engine_pass<T>(in, h, w, taps_as<T>(p.mask), p.kh, p.kw, border, out, p.schedule);
}

template <class T>
void separable_filter_as(const T* in, int h, int w, const SeparableMask& mask,
                         const BorderRule& border, T* out) {
  run_pass(in, h, w, separable_pass(mask), border, out);
}

template <class T>
void filter_plane_as(const T* in, int h, int w, const std::vector<double>& mask, int kh, int kw,
                     BorderRule border, T* out) {
  if (static_cast<std::size_t>(kh) * kw != mask.size())
    throw UsageError("mask size does not match its shape");
  engine_pass<T>(in, h, w, taps_as<T>(mask), kh, kw, border, out);
}

}  // namespace

PlanePass separable_pass(const SeparableMask& mask) {
  const int kc = static_cast<int>(mask.col.size()), kr = static_cast<int>(mask.row.size());
  if (kc == 1 || kr == 1) {  // already 1D: one pass
    std::vector<double> m(kc == 1 ? mask.row : mask.col);
    for (double& v : m) v *= kc == 1 ? mask.col[0] : mask.row[0];
    return PlanePass{std::move(m), kc, kr, Schedule::automatic};
  }
  // The outer product through the engine's separable schedule: a row pass
  // (1 x kr) then a column pass (kc x 1), fused so each row is filtered
  // horizontally once and the intermediate stays in cache.
  std::vector<double> outer(static_cast<std::size_t>(kc) * kr);
  for (int i = 0; i < kc; ++i)
    for (int j = 0; j < kr; ++j)
      outer[static_cast<std::size_t>(i) * kr + j] = mask.col[i] * mask.row[j];
  return PlanePass{std::move(outer), kc, kr, Schedule::separable};
}

void separable_filter(const float* in, int h, int w, const SeparableMask& mask, BorderRule border,
                      float* out) {
  separable_filter_as(in, h, w, mask, border, out);
}
void separable_filter(const double* in, int h, int w, const SeparableMask& mask, BorderRule border,
                      double* out) {
  separable_filter_as(in, h, w, mask, border, out);
}

void filter_plane(const float* in, int h, int w, const std::vector<double>& mask, int kh, int kw,
                  BorderRule border, float* out) {
  filter_plane_as(in, h, w, mask, kh, kw, border, out);
}
void filter_plane(const double* in, int h, int w, const std::vector<double>& mask, int kh, int kw,
                  BorderRule border, double* out) {
  filter_plane_as(in, h, w, mask, kh, kw, border, out);
}

ResolvedBlur resolve_blur(const BlurOptions& o) {
  if (o.size < 0)
    throw UsageError(param("size") + " must be positive (got " + std::to_string(o.size) + ")");
  if (o.sigma < 0 || !std::isfinite(o.sigma))
    throw UsageError(param("sigma") + " must be positive (got " + format_number(o.sigma) + ")");
  if (o.type == BlurType::box) {
    if (o.sigma != 0)
      throw UsageError(param("sigma") + " applies to " + param("type") + " gaussian, not box");
    int size = o.size == 0 ? 3 : o.size;
    check_odd_size(size, "box");
    return {size, 0};
  }
  if (o.size == 0 && o.sigma == 0) return {gaussian_size_for_sigma(1.0), 1.0};
  if (o.size == 0) return {gaussian_size_for_sigma(o.sigma), o.sigma};
  check_odd_size(o.size, "gaussian");
  return {o.size, o.sigma == 0 ? gaussian_sigma_for_size(o.size) : o.sigma};
}

std::vector<FixedSeparable> fixed_point_plans(const PlaneFilter& f) {
  if (!f.float_result && !f.rounds_to_8bit) return {};
  const double v = f.border.value;
  if (f.border.uses_value() && !(v >= 0 && v <= 255 && v == std::floor(v))) return {};
  std::vector<FixedSeparable> plans;
  for (const PlanePass& p : f.passes) {
    if (p.schedule != Schedule::separable && p.kh > 1 && p.kw > 1) return {};
    FixedSeparable plan = FixedSeparable::from_mask(p.mask, p.kh, p.kw);
    if (!(f.float_result ? plan.writes<float>() : plan.writes<std::uint8_t>())) return {};
    plans.push_back(std::move(plan));
  }
  return plans;
}

namespace {

// The passes of f on the first `planes` planes of an 8-bit image in fixed
// point, when fixed_point_plans() has plans for f and every sample is an
// integer in [0, 255] (as read from 8-bit files); false, doing nothing, else.
bool fixed_point_planes(const Image& in, const PlaneFilter& f, int planes, Image& out,
                        std::vector<float>& gy) {
  const std::vector<FixedSeparable> plans = fixed_point_plans(f);
  if (plans.empty()) return false;
  const int h = in.height, w = in.width;
  const std::size_t n = static_cast<std::size_t>(h) * w;
  std::vector<std::uint8_t> u8(n), r8(f.float_result ? 0 : n);
  const Pixels<const std::uint8_t> src{u8.data(), h, w, 1, w};
  for (int c = 0; c < planes; ++c) {
    const float* p = in.plane(c);
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) {
      ok = ok && p[i] >= 0 && p[i] <= 255;
      u8[i] = ok ? static_cast<std::uint8_t>(p[i]) : 0;
      ok = ok && u8[i] == p[i];
    }
    if (!ok) return false;  // the float path then writes every plane again
    float* dst = out.plane(c);
    if (f.float_result) {
      separable_fixed(src, plans[0], f.border, Pixels<float>{dst, h, w, 1, w});
      if (plans.size() > 1) {
        separable_fixed(src, plans[1], f.border, Pixels<float>{gy.data(), h, w, 1, w});
        combine_passes(dst, gy.data(), n, f);
      }
    } else {
      separable_fixed(src, plans[0], f.border, Pixels<std::uint8_t>{r8.data(), h, w, 1, w});
      std::copy(r8.begin(), r8.end(), dst);
    }
  }
  return true;
}

// The passes of f on each colour plane of `in` (and alpha when f.filter_alpha)
// into `out` (samples of type T).
template <class T>
void apply_plane_filter_as(const Image& in, const PlaneFilter& f, Image& out) {
  same_shape<T>(in, f.float_result ? (std::is_same_v<T, double> ? 64 : 32) : in.bit_depth, out);
  const int h = in.height, w = in.width;
  const std::size_t n = static_cast<std::size_t>(h) * w;
  std::vector<T> gy;  // the second pass's plane, shared by the channels
  if (f.passes.size() > 1) gy.resize(n);
  const int planes = f.filter_alpha ? in.channels : colour_channels(in);
  if constexpr (std::is_same_v<T, float>) {
    if (in.bit_depth == 8 && fixed_point_planes(in, f, planes, out, gy)) return;
  }
  for (int c = 0; c < planes; ++c) {
    T* dst = out.plane_of<T>(c);
    const T* src = in.plane_of<T>(c);
    run_pass(src, h, w, f.passes[0], f.border, dst);
    if (f.passes.size() > 1) {
      run_pass(src, h, w, f.passes[1], f.border, gy.data());
      combine_passes(dst, gy.data(), n, f);
    }
  }
}

}  // namespace

void apply_plane_filter(const Image& in, const PlaneFilter& f, Image& out) {
  check_image(in);
  if (&in == &out) {  // filtering reads neighbours: never in place
    Image tmp;
    apply_plane_filter(in, f, tmp);
    out = std::move(tmp);
    return;
  }
  with_sample_type(in, [&](auto t) { apply_plane_filter_as<decltype(t)>(in, f, out); });
}

Image blur(const Image& in, const BlurOptions& o) {
  Image out;
  blur(in, o, out);
  return out;
}

bool blur_is_plane_filter(const Image& in, const BlurOptions& o) {
  return !o.linear && !(o.alpha == AlphaMode::premultiply && in.has_alpha());
}

void blur(const Image& in, const BlurOptions& o, Image& out) {
  check_image(in);
  PlaneFilter f = blur_filter(o);
  if (blur_is_plane_filter(in, o)) {  // each colour channel on its own, alpha unchanged
    apply_plane_filter(in, f, out);   // which never filters in place
    return;
  }
  const bool premultiply = o.alpha == AlphaMode::premultiply && in.has_alpha();
  Image work = in;  // float intermediate: linear light and/or premultiplied colour
  if (o.linear) srgb_to_linear(work);
  if (premultiply) premultiply_alpha(work);
  f.filter_alpha = premultiply;
  apply_plane_filter(work, f, out);
  if (premultiply) unpremultiply_alpha(out);
  if (o.linear) linear_to_srgb(out);
}

PlaneFilter blur_filter(const BlurOptions& o) {
  ResolvedBlur r = resolve_blur(o);
  std::vector<double> taps =
      o.type == BlurType::box ? box_taps(r.size) : gaussian_taps(r.size, r.sigma);
  SeparableMask mask{taps, taps};
  if (o.sigma_y != 0) {  // anisotropic: mask.col runs down the columns
    if (o.type == BlurType::box)
      throw UsageError(param("sigma_y") + " applies to " + param("type") + " gaussian, not box");
    ResolvedBlur ry = resolve_blur({o.type, o.size, o.sigma_y, o.border});
    mask.col = gaussian_taps(ry.size, ry.sigma);
  }
  PlaneFilter f;
  f.passes.push_back(separable_pass(mask));
  f.border = o.border;
  return f;
}

PlaneFilter edge_filter(const EdgeOptions& o) {
  if (o.ksize != 3) sobel_mask(o.op, true, o.ksize);  // usage errors before any work
  const bool gaussian = o.op == EdgeOperator::log || o.op == EdgeOperator::dog;
  // gaussian_edge_masks also refuses --sigma, --sigma2, --size given to another operator.
  const GaussianEdgeMasks gm = gaussian || o.sigma != 0 || o.sigma2 != 0 || o.size != 0
                                   ? gaussian_edge_masks(o)
                                   : GaussianEdgeMasks{};
  PlaneFilter f;
  f.border = o.border;
  f.float_result = true;
  if (gaussian) {  // two separable passes, added (log) or subtracted (dog)
    // One kernel size for both (bands need it): the shorter masks get zero
    // taps at both ends, which add exact zeros.
    SeparableMask a = gm.first, b = gm.second;
    for (auto [x, y] : {std::pair{&a.col, &b.col}, std::pair{&a.row, &b.row}}) {
      std::vector<double>& shorter = x->size() < y->size() ? *x : *y;
      const std::size_t pad = (std::max(x->size(), y->size()) - shorter.size()) / 2;
      shorter.insert(shorter.begin(), pad, 0.0);
      shorter.insert(shorter.end(), pad, 0.0);
    }
    f.passes.push_back(separable_pass(a));
    f.passes.push_back(separable_pass(b));
    f.sum_sign = gm.subtract ? -1 : 1;
  } else if (o.op == EdgeOperator::laplacian) {
    f.passes.push_back(PlanePass{laplacian_mask(), 3, 3, Schedule::automatic});
  } else if (o.direction == EdgeDirection::x || o.direction == EdgeDirection::y) {
    f.passes.push_back(
        separable_pass(derivative_mask(o.op, o.direction == EdgeDirection::x, o.ksize)));
  } else {
    f.passes.push_back(separable_pass(derivative_mask(o.op, true, o.ksize)));
    f.passes.push_back(separable_pass(derivative_mask(o.op, false, o.ksize)));
    f.combine = o.direction;
  }
  return f;
}

template <class T>
void combine_gradients(T* gx, const T* gy, std::size_t n, EdgeDirection d) {
  const bool magnitude = d == EdgeDirection::magnitude;
  parallel_for(0, static_cast<std::ptrdiff_t>(n), 1 << 16,
               [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                 for (std::ptrdiff_t i = lo; i < hi; ++i) {
                   const T x = gx[i];
                   const T y = gy[i];
                   if (magnitude) {
                     gx[i] = std::sqrt(x * x + y * y);
                   } else {
                     double a = (x == 0 && y == 0) ? 0.0 : std::atan2(double(y), double(x));
                     double deg = a * (180.0 / std::numbers::pi);
                     if (deg < 0) deg += 360.0;
                     if (deg >= 360.0) deg -= 360.0;
                     gx[i] = static_cast<T>(deg);
                   }
                 }
               });
}
template void combine_gradients<float>(float*, const float*, std::size_t, EdgeDirection);
template void combine_gradients<double>(double*, const double*, std::size_t, EdgeDirection);

template <class T>
void combine_passes(T* first, const T* second, std::size_t n, const PlaneFilter& f) {
  if (f.sum_sign == 0) return combine_gradients(first, second, n, f.combine);
  const T sign = static_cast<T>(f.sum_sign);
  parallel_for(0, static_cast<std::ptrdiff_t>(n), 1 << 16,
               [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                 for (std::ptrdiff_t i = lo; i < hi; ++i) first[i] += sign * second[i];
               });
}
template void combine_passes<float>(float*, const float*, std::size_t, const PlaneFilter&);
template void combine_passes<double>(double*, const double*, std::size_t, const PlaneFilter&);

Image edge(const Image& in, const EdgeOptions& o) {
  Image out;
  edge(in, o, out);
  return out;
}

void edge(const Image& in, const EdgeOptions& o, Image& out) {
  check_image(in);
  apply_plane_filter(in, edge_filter(o), out);  // which never filters in place
}

// ---- integer pixels --------------------------------------------------------

namespace {

// One engine pass on every channel of integer pixels, with the float taps the
// float path uses.
// `fixed`: 8-bit input through FixedSeparable when it has a plan for a
// separable pass (blur, edge, separable_filter; filter_plane keeps the float
// path for any mask).
template <class In, class Out>
void run_pass(Pixels<const In> in, const PlanePass& p, const BorderRule& border, Pixels<Out> out,
              bool fixed = true) {
  if constexpr (std::is_same_v<In, std::uint8_t>) {
    if (fixed && (p.schedule == Schedule::separable || p.kh == 1 || p.kw == 1) &&
        separable_fixed(in, FixedSeparable::from_mask(p.mask, p.kh, p.kw), border, out))
      return;
  }
  const std::vector<float> m = taps_as<float>(p.mask);
  conv2d_pixels(in, View<const float>{m.data(), p.kh, p.kw, p.kw}, border, out, p.schedule);
}

// The passes of f on every channel; two passes are combined in float.
template <class In, class Out>
void apply_filter(Pixels<const In> in, const PlaneFilter& f, Pixels<Out> out, const char* what) {
  if (f.passes.size() == 1) return run_pass(in, f.passes[0], f.border, out);
  if constexpr (!std::is_same_v<Out, float>) {
    throw UsageError(std::string(what) + " of integer pixels needs float output");
  } else {
    const std::size_t row = static_cast<std::size_t>(in.cols) * in.channels;
    std::vector<float> second(row * static_cast<std::size_t>(in.rows));
    run_pass(in, f.passes[0], f.border, out);
    run_pass(in, f.passes[1], f.border,
             Pixels<float>{second.data(), in.rows, in.cols, in.channels,
                           static_cast<std::ptrdiff_t>(row)});
    if (out.stride == static_cast<std::ptrdiff_t>(row))  // one run over the whole image
      return combine_passes(out.data, second.data(), second.size(), f);
    for (int y = 0; y < in.rows; ++y)
      combine_passes(out.data + y * out.stride, second.data() + y * row, row, f);
  }
}

}  // namespace

template <class In, class Out>
void separable_filter(Pixels<const In> in, const SeparableMask& mask, const BorderRule& border,
                      Pixels<Out> out) {
  run_pass(in, separable_pass(mask), border, out);
}

template <class In, class Out>
void filter_plane(Pixels<const In> in, const std::vector<double>& mask, int kh, int kw,
                  const BorderRule& border, Pixels<Out> out) {
  if (static_cast<std::size_t>(kh) * kw != mask.size())
    throw UsageError("mask size does not match its shape");
  run_pass(in, PlanePass{mask, kh, kw, Schedule::automatic}, border, out, false);
}

template <class T>
void blur(Pixels<const T> in, const BlurOptions& o, Pixels<T> out) {
  if (o.linear) throw UsageError("blur of integer pixels: linear light needs float planes");
  apply_filter(in, blur_filter(o), out, "blur");
}

template <class In, class Out>
void edge(Pixels<const In> in, const EdgeOptions& o, Pixels<Out> out) {
  const PlaneFilter f = edge_filter(o);
  const std::string what =
      "edge " + std::string(f.sum_sign != 0 ? to_string(o.op) : to_string(o.direction));
  apply_filter(in, f, out, what.c_str());
}

#define CONVKIT_INSTANTIATE(In, Out)                                                          \
  template void separable_filter<In, Out>(Pixels<const In>, const SeparableMask&,             \
                                          const BorderRule&, Pixels<Out>);                    \
  template void filter_plane<In, Out>(Pixels<const In>, const std::vector<double>&, int, int, \
                                      const BorderRule&, Pixels<Out>);                        \
  template void edge<In, Out>(Pixels<const In>, const EdgeOptions&, Pixels<Out>);
CONVKIT_FOR_PIXEL_TYPES(CONVKIT_INSTANTIATE)
#undef CONVKIT_INSTANTIATE
template void blur<std::uint8_t>(Pixels<const std::uint8_t>, const BlurOptions&,
                                 Pixels<std::uint8_t>);
template void blur<std::uint16_t>(Pixels<const std::uint16_t>, const BlurOptions&,
                                  Pixels<std::uint16_t>);

Image to_grey(const Image& in) {
  check_image(in);
  if (in.channels <= 2) return in;
  Image out;
  out.width = in.width;
  out.height = in.height;
  out.bit_depth = in.bit_depth;
  out.channels = in.has_alpha() ? 2 : 1;
  const std::size_t n = static_cast<std::size_t>(in.width) * in.height;
  with_sample_type(in, [&](auto t) {
    using T = decltype(t);
    out.samples<T>().resize(n * out.channels);
    const T *r = in.plane_of<T>(0), *g = in.plane_of<T>(1), *b = in.plane_of<T>(2);
    T* y = out.plane_of<T>(0);
    for (std::size_t i = 0; i < n; ++i) y[i] = T(0.299) * r[i] + T(0.587) * g[i] + T(0.114) * b[i];
    if (in.has_alpha()) std::copy(in.plane_of<T>(3), in.plane_of<T>(3) + n, out.plane_of<T>(1));
  });
  return out;
}

}  // namespace convkit
