// [fixed] FixedSeparable (convkit/pixels.hpp): 8-bit separable filters in
// integer arithmetic.  Integer kernels (Sobel, Scharr, Prewitt, box) against
// brute-force integer sums, exactly; Gaussians against a brute-force double
// correlation (within the plan's error bound, then rounded) and against the
// float path (within one grey level), at many sigmas, sizes and borders.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/filtering.hpp"
#include "convkit/parallel.hpp"
#include "convkit/pixels.hpp"
#include "engine/schedules.hpp"
#include "support/pixels.hpp"

using namespace convkit;
using namespace convkit::test;

namespace {

std::vector<std::uint8_t> random_u8(Shape s, unsigned seed) {
  return random_pixels<std::uint8_t>(s, seed, 255);
}

// Brute-force correlation with col (x) row of channel c at (y, x), in double.
double correlate(const std::vector<std::uint8_t>& v, Shape s, const std::vector<double>& col,
                 const std::vector<double>& row, const BorderRule& b, int y, int x, int c) {
  const int kh = static_cast<int>(col.size()), kw = static_cast<int>(row.size());
  double acc = 0;
  for (int i = 0; i < kh; ++i) {
    const int yy = border_index(y + i - kh / 2, s.h, b.rows);
    for (int j = 0; j < kw; ++j) {
      const int xx = border_index(x + j - kw / 2, s.w, b.cols);
      const double px =
          yy < 0 || xx < 0 ? b.value : v[(static_cast<std::size_t>(yy) * s.w + xx) * s.c + c];
      acc += col[i] * row[j] * px;
    }
  }
  return acc;
}

const BorderRule kBorders[] = {Border::reflect,
                               Border::zero,
                               Border::replicate,
                               Border::symmetric,
                               Border::circular,
                               {Border::zero, Border::reflect, 7},
                               {Border::replicate, Border::zero, 200}};

const Shape kShapes[] = {{1, 1, 1}, {2, 3, 3}, {7, 5, 1}, {37, 53, 3}, {19, 40, 4}, {5, 700, 3}};

std::vector<float> outer_float(const std::vector<double>& col, const std::vector<double>& row) {
  std::vector<float> k;
  for (double a : col)
    for (double b : row) k.push_back(static_cast<float>(a * b));
  return k;
}

}  // namespace

TEST_CASE("[fixed] Gaussian: within the error bound of the exact value, one grey level of float") {
  const double sigmas[] = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0};
  unsigned seed = 1;
  for (double sigma : sigmas)
    for (int size : {0, 3, 7}) {
      const int k = size ? size : gaussian_size_for_sigma(sigma);
      const std::vector<double> g = gaussian_taps(k, sigma);
      // Anisotropic too: a narrower vertical Gaussian.
      const std::vector<double> gy = gaussian_taps(k > 3 ? k - 2 : k, sigma * 0.7);
      for (const auto* col : {&g, &gy}) {
        const FixedSeparable plan(*col, g);
        CAPTURE(sigma);
        CAPTURE(k);
        REQUIRE(plan.ok());
        CHECK_FALSE(plan.exact());
        CHECK(plan.error_bound() <= kFixedMaxError);
        CHECK(plan.error_bound() < 0.1);  // far inside: the taps carry 15+ bits
        const std::vector<float> kf = outer_float(*col, g);
        const View<const float> kv{kf.data(), static_cast<int>(col->size()), k, k};
        for (const Shape& s : kShapes)
          for (const BorderRule& b : kBorders) {
            if (s.h * s.w > 2000 && b.rows != Border::reflect) continue;  // keep it quick
            const auto in = random_u8(s, seed++);
            std::vector<std::uint8_t> got(in.size()), flt(in.size());
            REQUIRE(separable_fixed(view(in, s), plan, b, view(got, s)));
            conv2d_pixels(view(in, s), kv, b, view(flt, s), Schedule::separable);
            int bad = 0, off = 0;
            for (int y = 0; y < s.h; ++y)
              for (int x = 0; x < s.w; ++x)
                for (int c = 0; c < s.c; ++c) {
                  const std::size_t i = (static_cast<std::size_t>(y) * s.w + x) * s.c + c;
                  const double v = correlate(in, s, *col, g, b, y, x, c);
                  const double e = plan.error_bound();
                  const double lo = std::clamp(std::floor(v - e + 0.5), 0.0, 255.0);
                  const double hi = std::clamp(std::floor(v + e + 0.5), 0.0, 255.0);
                  if ((got[i] < lo || got[i] > hi) && ++bad <= 3)
                    FAIL_CHECK("at " << y << "," << x << "," << c << ": " << int(got[i])
                                     << " outside [" << lo << ", " << hi << "] (exact " << v
                                     << ")");
                  if (std::abs(int(got[i]) - int(flt[i])) > 1 && ++bad <= 3)
                    FAIL_CHECK("at " << y << "," << x << "," << c << ": " << int(got[i])
                                     << " vs float " << int(flt[i]));
                  off += got[i] != flt[i];
                }
            CHECK(bad == 0);
            // Rounding differences are rare: most samples equal the float path's.
            CHECK(off <= static_cast<int>(in.size()) / 20 + 2);
          }
      }
    }
}

TEST_CASE("[fixed] integer kernels are exact: Sobel, Scharr, Prewitt to int16 and float, box") {
  struct K {
    SeparableMask m;
    const char* name;
  };
  std::vector<K> ks;
  for (EdgeOperator op : {EdgeOperator::sobel, EdgeOperator::scharr, EdgeOperator::prewitt})
    for (bool x : {true, false}) ks.push_back({derivative_mask(op, x), "derivative"});
  for (int ksize : {5, 7}) ks.push_back({derivative_mask(EdgeOperator::sobel, true, ksize), "k57"});
  unsigned seed = 100;
  for (const K& k : ks) {
    const FixedSeparable plan(k.m.col, k.m.row);
    REQUIRE(plan.ok());
    REQUIRE(plan.exact());
    CHECK(plan.error_bound() == 0);
    // The same plan from the outer product (how the filters hand masks over).
    std::vector<double> outer;
    for (double a : k.m.col)
      for (double b : k.m.row) outer.push_back(a * b);
    const FixedSeparable from = FixedSeparable::from_mask(outer, static_cast<int>(k.m.col.size()),
                                                          static_cast<int>(k.m.row.size()));
    REQUIRE(from.ok());
    REQUIRE(from.exact());
    for (const Shape& s : kShapes)
      for (const BorderRule& b : kBorders) {
        const auto in = random_u8(s, seed++);
        std::vector<std::int16_t> g16(in.size());
        std::vector<float> gf(in.size());
        std::vector<std::uint8_t> g8(in.size());
        each_setting([&] {
          REQUIRE(separable_fixed(view(in, s), from, b, view(g16, s)));
          REQUIRE(separable_fixed(view(in, s), plan, b, view(gf, s)));
          REQUIRE(separable_fixed(view(in, s), plan, b, view(g8, s)));
          int bad = 0;
          for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
              for (int c = 0; c < s.c; ++c) {
                const std::size_t i = (static_cast<std::size_t>(y) * s.w + x) * s.c + c;
                const double v = correlate(in, s, k.m.col, k.m.row, b, y, x, c);
                REQUIRE(v == std::round(v));  // an integer sum, exact in double
                const double sat = std::clamp(v, -32768.0, 32767.0);
                if ((g16[i] != sat || gf[i] != v || g8[i] != std::clamp(v, 0.0, 255.0)) &&
                    ++bad <= 3)
                  FAIL_CHECK(k.name << " at " << y << "," << x << "," << c << ": " << g16[i]
                                    << " / " << gf[i] << " / " << int(g8[i]) << " != " << v);
              }
          CHECK(bad == 0);
        });
      }
  }

  for (int size : {1, 3, 5, 7, 9, 15}) {
    const std::vector<double> t = box_taps(size);
    const FixedSeparable plan(t, t);
    REQUIRE(plan.ok());
    REQUIRE(plan.exact());
    const long long n = static_cast<long long>(size) * size;
    for (const Shape& s : kShapes)
      for (const BorderRule& b : kBorders) {
        const auto in = random_u8(s, seed++);
        std::vector<std::uint8_t> got(in.size());
        std::vector<float> gf(in.size());
        const std::vector<double> ones(static_cast<std::size_t>(size), 1.0);
        each_setting([&] {
          REQUIRE(separable_fixed(view(in, s), plan, b, view(got, s)));
          REQUIRE(separable_fixed(view(in, s), plan, b, view(gf, s)));
          int bad = 0;
          for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
              for (int c = 0; c < s.c; ++c) {
                const std::size_t i = (static_cast<std::size_t>(y) * s.w + x) * s.c + c;
                // The integer box sum, its mean rounded half up in integers.
                const auto sum = static_cast<long long>(correlate(in, s, ones, ones, b, y, x, c));
                const long long want = (2 * sum + n) / (2 * n);
                if ((got[i] != want || gf[i] != static_cast<float>(sum) / static_cast<float>(n)) &&
                    ++bad <= 3)
                  FAIL_CHECK("box " << size << " at " << y << "," << x << "," << c << ": "
                                    << int(got[i]) << " != " << want);
              }
          CHECK(bad == 0);
        });
      }
  }
}

TEST_CASE("[fixed] Gaussian results are the same for every SIMD level, thread count and band") {
  const Shape s{61, 333, 3};
  const auto in = random_u8(s, 7);
  const std::vector<double> g = gaussian_taps(13, 2.0);
  const FixedSeparable plan(g, g);
  REQUIRE(plan.ok());
  std::vector<std::uint8_t> first(in.size()), got(in.size());
  REQUIRE(separable_fixed(view(in, s), plan, Border::reflect, view(first, s)));
  each_setting([&] {
    std::fill(got.begin(), got.end(), 0);
    REQUIRE(separable_fixed(view(in, s), plan, Border::reflect, view(got, s)));
    CHECK(got == first);
  });
  // Bands: output rows [m0, m1) from their own row pointers (the vertical
  // border applied by the caller, as the streaming pipeline does).
  const int ry = 6;
  std::vector<const std::uint8_t*> rows;
  for (int r = -ry; r < s.h + ry; ++r)
    rows.push_back(in.data() +
                   static_cast<std::ptrdiff_t>(border_index(r, s.h, Border::reflect)) * s.w * s.c);
  std::fill(got.begin(), got.end(), 0);
  for (int m0 = 0; m0 < s.h; m0 += 17) {
    const int m1 = std::min(s.h, m0 + 17);
    plan.run(rows.data() + m0, Border::reflect, 0,
             Pixels<std::uint8_t>{got.data() + static_cast<std::size_t>(m0) * s.w * s.c, m1 - m0,
                                  s.w, s.c, static_cast<std::ptrdiff_t>(s.w) * s.c});
  }
  CHECK(got == first);
}

TEST_CASE("[fixed] where the plan does not apply") {
  // Too many taps, even sizes, masks that are not outer products.
  CHECK_FALSE(FixedSeparable(gaussian_taps(257, 40), gaussian_taps(3, 1)).ok());
  CHECK_FALSE(FixedSeparable({0.5, 0.5}, {1}).ok());
  CHECK_FALSE(FixedSeparable::from_mask({1, 2, 3, 4, 5, 6, 7, 8, 10}, 3, 3).ok());
  CHECK(FixedSeparable::from_mask({1, 2, 1, 2, 4, 2, 1, 2, 1}, 3, 3).exact());
  // Sums that would not fit 16 bits: an integer row summing to 200.
  CHECK_FALSE(FixedSeparable({1}, {100, 0, 100}).ok());
  // Approximate plans write uint8 only; exact ones also int16 and float.
  const FixedSeparable g(gaussian_taps(5, 1), gaussian_taps(5, 1));
  CHECK(g.writes<std::uint8_t>());
  CHECK_FALSE(g.writes<std::int16_t>());
  CHECK_FALSE(g.writes<float>());
  const Shape s{4, 4, 1};
  const auto in = random_u8(s, 3);
  std::vector<float> out(in.size());
  CHECK_FALSE(separable_fixed(view(in, s), g, Border::reflect, view(out, s)));
  // A border value that is not an 8-bit sample.
  std::vector<std::uint8_t> o8(in.size());
  CHECK_FALSE(
      separable_fixed(view(in, s), g, BorderRule(Border::zero, Border::zero, 2.5), view(o8, s)));
  CHECK_FALSE(
      separable_fixed(view(in, s), g, BorderRule(Border::zero, Border::zero, 256), view(o8, s)));
}

TEST_CASE("[fixed] 8-bit Images: blur in fixed point when rounded to 8 bits, edge exactly") {
  const Shape s{45, 67, 3};
  const auto in = random_u8(s, 11);
  Image img;
  img.width = s.w;
  img.height = s.h;
  img.channels = s.c;
  img.bit_depth = 8;
  const std::size_t n = static_cast<std::size_t>(s.h) * s.w;
  img.data.resize(in.size());
  for (std::size_t i = 0; i < n; ++i)
    for (int c = 0; c < s.c; ++c) img.data[c * n + i] = in[i * s.c + c];
  for (double sigma : {1.0, 2.0, 3.5}) {
    const BlurOptions o{BlurType::gaussian, 0, sigma, Border::reflect};
    PlaneFilter f = blur_filter(o);
    f.rounds_to_8bit = true;
    Image got;
    apply_plane_filter(img, f, got);
    const std::vector<double> g = gaussian_taps(gaussian_size_for_sigma(sigma), sigma);
    std::vector<std::uint8_t> want(in.size());
    REQUIRE(separable_fixed(view(in, s), FixedSeparable(g, g), Border::reflect, view(want, s)));
    Image as_float = img;  // the same samples as float data: the float path
    as_float.bit_depth = 32;
    const Image flt = blur(as_float, o);
    int off = 0, far = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (int c = 0; c < s.c; ++c) {
        const float v = got.data[c * n + i];
        off += v != want[i * s.c + c];
        far += std::abs(v - std::floor(flt.data[c * n + i] + 0.5f)) > 1;
      }
    CHECK(off == 0);
    CHECK(far == 0);
    // Without the flag the result keeps its float values (for 16-bit or
    // float output): the float path's.
    CHECK(blur(img, o).data == flt.data);
  }
  // Sobel magnitude: exact integer gradients, so the float path's numbers.
  const EdgeOptions e{EdgeOperator::sobel, EdgeDirection::magnitude, Border::reflect};
  Image as_float = img;
  as_float.bit_depth = 32;
  CHECK(edge(img, e).data == edge(as_float, e).data);
}
