// [filtering] premultiplied alpha and linear light in blur and sharpen,
// against the same recipes built from cv::GaussianBlur.
#include <doctest/doctest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "convkit/colour.hpp"
#include "convkit/filtering.hpp"
#include "convkit/sharpen.hpp"
#include "filtering/mat_image.hpp"

using namespace convkit;
using namespace convkit::test;

namespace {

// The IEC 61966-2-1 curves written out here, independent of convkit's.
double decode(double s) {
  return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
}
double encode(double l) {
  return l <= 0.0031308 ? 12.92 * l : 1.055 * std::pow(l, 1 / 2.4) - 0.055;
}

// Plane c of an 8-bit-valued image decoded to linear light in [0, 1].
cv::Mat decoded(const Image& img, int c = 0) {
  cv::Mat lin = plane_mat(img, c);
  lin.forEach<float>([](float& v, const int*) { v = static_cast<float>(decode(v / 255.0)); });
  return lin;
}

// Linear light (odd-extended below 0) encoded back to 0..255 sRGB, in place.
void encode_to_8bit_units(cv::Mat& m) {
  m.forEach<float>([](float& v, const int*) {
    v = static_cast<float>(255 * (v < 0 ? -encode(-v) : encode(v)));
  });
}

// An 8-bit-valued random image of the given cv type.
Image random_image(int rows, int cols, int type, int seed) {
  cv::Mat m(rows, cols, type);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(m, 0, 256);
  return image_from_mat(m);
}

// A random 8-bit-valued image with `channels` channels (last = alpha when 2 or 4)
// whose alpha has transparent, partial and opaque areas.
Image random_rgba(int channels, int seed) {
  Image img = random_image(29, 37, CV_8UC(channels), seed);
  float* a = img.plane(channels - 1);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (x < 8)
        a[y * img.width + x] = 0;  // transparent strip
      else if (x > 28)
        a[y * img.width + x] = 255;  // opaque strip
  return img;
}

cv::Mat blur_mat(const cv::Mat& m, double sigma) {
  const int k = 2 * static_cast<int>(std::ceil(3 * sigma)) + 1;
  cv::Mat out;
  cv::GaussianBlur(m, out, cv::Size(k, k), sigma, sigma, cv::BORDER_REFLECT_101);
  return out;
}

// premultiply -> cv::GaussianBlur -> divide by the blurred alpha (0 where it is 0).
std::vector<cv::Mat> premultiplied_blur(const Image& img, double sigma) {
  const int ac = img.channels - 1;
  const cv::Mat a = plane_mat(img, ac);
  const cv::Mat ba = blur_mat(a, sigma);
  std::vector<cv::Mat> out;
  for (int c = 0; c < ac; ++c) {
    const cv::Mat bc = blur_mat(plane_mat(img, c).mul(a), sigma);
    cv::Mat r(bc.size(), CV_32F);
    for (int i = 0; i < static_cast<int>(r.total()); ++i)
      r.at<float>(i) = ba.at<float>(i) > 0 ? bc.at<float>(i) / ba.at<float>(i) : 0.f;
    out.push_back(r);
  }
  out.push_back(ba);
  return out;
}

// Transparent black on the left, opaque `grey` on the right.
Image half_transparent(float grey, int channels = 4) {
  cv::Mat m = cv::Mat::zeros(20, 30, CV_8UC(channels));
  Image img = image_from_mat(m);
  for (int y = 0; y < 20; ++y)
    for (int x = 15; x < 30; ++x)
      for (int c = 0; c < channels; ++c)
        img.plane(c)[y * 30 + x] = c == channels - 1 ? 255.f : grey;
  return img;
}

}  // namespace

TEST_CASE("[filtering] blur filters RGBA and grey+alpha premultiplied by alpha") {
  for (int channels : {2, 4}) {
    CAPTURE(channels);
    const Image img = random_rgba(channels, 40 + channels);
    BlurOptions o;
    o.sigma = 1.7;
    const Image got = blur(img, o);
    const std::vector<cv::Mat> want = premultiplied_blur(img, 1.7);
    for (int c = 0; c < channels; ++c) {
      CAPTURE(c);
      CHECK(cv::norm(plane_mat(got, c), want[static_cast<std::size_t>(c)], cv::NORM_INF) < 2e-3);
    }
  }
}

TEST_CASE("[filtering] premultiplied blur leaves no grey halo; --alpha pass does") {
  const Image img = half_transparent(255);
  BlurOptions o;
  o.sigma = 2;
  const Image pre = blur(img, o);
  int partial = 0;
  for (int i = 0; i < 600; ++i) {
    const float a = pre.plane(3)[i];
    if (a > 0 && a < 255) ++partial;
    for (int c = 0; c < 3; ++c)
      if (a > 0)
        CHECK(pre.plane(c)[i] == doctest::Approx(255).epsilon(1e-5));
      else
        CHECK(pre.plane(c)[i] == 0);
  }
  CHECK(partial >= 20 * 10);  // the blurred edge is partly transparent
  o.alpha = AlphaMode::pass;  // before: colour blurred on its own, alpha unchanged
  const Image pass = blur(img, o);
  CHECK(cv::norm(plane_mat(pass, 3), plane_mat(img, 3), cv::NORM_INF) == 0);
  CHECK(pass.plane(0)[5 * 30 + 15] < 200);  // an opaque pixel turned grey
}

TEST_CASE("[filtering] where no pixel under the kernel is visible the colour is 0") {
  Image img = random_rgba(4, 44);
  const Image got = blur(img, {BlurType::box, 3, 0, Border::reflect});
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < 7; ++x)  // the box reaches x + 1 <= 7, still transparent
      for (int c = 0; c < 4; ++c) CHECK(got.plane(c)[y * img.width + x] == 0);
}

TEST_CASE("[filtering] blur in linear light equals decode -> cv::GaussianBlur -> encode") {
  const Image img = random_image(31, 43, CV_8UC3, 45);
  BlurOptions o;
  o.sigma = 2.5;
  o.linear = true;
  const Image got = blur(img, o);
  for (int c = 0; c < 3; ++c) {
    cv::Mat b = blur_mat(decoded(img, c), 2.5);
    encode_to_8bit_units(b);
    CHECK(cv::norm(plane_mat(got, c), b, cv::NORM_INF) < 1e-3);
    // Linear light is not sRGB: averaging dark and bright pixels comes out brighter.
    CHECK(cv::mean(plane_mat(got, c))[0] >
          cv::mean(plane_mat(blur(img, {BlurType::gaussian, 0, 2.5, Border::reflect}), c))[0] + 5);
  }
}

TEST_CASE("[filtering] linear light with premultiplied alpha: decode, premultiply, blur, back") {
  const Image img = random_rgba(4, 46);
  BlurOptions o;
  o.sigma = 1.2;
  o.linear = true;
  const Image got = blur(img, o);
  Image lin = img;
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < img.width * img.height; ++i)
      lin.plane(c)[i] = static_cast<float>(255 * decode(img.plane(c)[i] / 255.0));
  const std::vector<cv::Mat> want = premultiplied_blur(lin, 1.2);
  for (int c = 0; c < 4; ++c) {
    cv::Mat w = want[static_cast<std::size_t>(c)];
    if (c < 3) {
      w /= 255;
      encode_to_8bit_units(w);
    }
    CHECK(cv::norm(plane_mat(got, c), w, cv::NORM_INF) < 2e-3);
  }
}

TEST_CASE("[filtering] 8- and 16-bit images round-trip exactly through linear light") {
  for (int depth : {8, 16}) {
    CAPTURE(depth);
    const int levels = depth == 8 ? 256 : 65536;
    Image img;
    img.width = 256;
    img.height = levels / 256;
    img.channels = 1;
    img.bit_depth = depth;
    for (int v = 0; v < levels; ++v) img.data.push_back(static_cast<float>(v));
    BlurOptions o;
    o.sigma = 1e-9;  // the identity kernel
    o.linear = true;
    const Image got = blur(img, o);
    int wrong = 0;
    for (int v = 0; v < levels; ++v)
      wrong += std::lround(got.data[static_cast<std::size_t>(v)]) != v;
    CHECK(wrong == 0);
  }
}

TEST_CASE("[filtering] the sRGB curves: exact constants, inverse of each other, odd") {
  CHECK(srgb_to_linear(0.04045) == doctest::Approx(0.04045 / 12.92).epsilon(1e-15));
  CHECK(srgb_to_linear(0.5) == doctest::Approx(0.21404114048223255).epsilon(1e-14));
  CHECK(linear_to_srgb(0.0031308) == doctest::Approx(12.92 * 0.0031308).epsilon(1e-15));
  CHECK(srgb_to_linear(1.0) == doctest::Approx(1.0).epsilon(1e-15));
  for (double s = -1.5; s <= 1.5; s += 0.01)
    CHECK(linear_to_srgb(srgb_to_linear(s)) == doctest::Approx(s).epsilon(1e-12));
  CHECK(srgb_to_linear(-0.5) == -srgb_to_linear(0.5));
}

TEST_CASE("[filtering] sharpen's blur is premultiplied: no halo from transparent pixels") {
  const Image img = half_transparent(100);
  SharpenOptions o;
  o.sigma = 2;
  const Image pre = sharpen(img, o);
  for (int i = 0; i < 600; ++i) {
    CHECK(pre.plane(3)[i] == img.plane(3)[i]);  // alpha passes through
    if (img.plane(3)[i] > 0)
      for (int c = 0; c < 3; ++c) CHECK(pre.plane(c)[i] == doctest::Approx(100).epsilon(1e-5));
  }
  o.alpha = AlphaMode::pass;
  CHECK(sharpen(img, o).plane(0)[5 * 30 + 15] > 130);  // the bright halo of before
}

TEST_CASE("[filtering] premultiplied sharpen equals c + amount*(c - blur(c*a)/blur(a))") {
  const Image img = random_rgba(4, 47);
  SharpenOptions o;
  o.sigma = 1.4;
  o.amount = 0.7;
  const Image got = sharpen(img, o);
  const std::vector<cv::Mat> blurred = premultiplied_blur(img, 1.4);
  const cv::Mat ba = blurred[3];
  for (int c = 0; c < 3; ++c) {
    cv::Mat want = plane_mat(img, c);
    for (int i = 0; i < static_cast<int>(want.total()); ++i)
      if (ba.at<float>(i) > 0)
        want.at<float>(i) +=
            0.7f * (want.at<float>(i) - blurred[static_cast<std::size_t>(c)].at<float>(i));
    CHECK(cv::norm(plane_mat(got, c), want, cv::NORM_INF) < 2e-3);
  }
  CHECK(cv::norm(plane_mat(got, 3), plane_mat(img, 3), cv::NORM_INF) == 0);
}

TEST_CASE("[filtering] sharpen in linear light equals the recipe on decoded values") {
  const Image img = random_image(25, 33, CV_8UC1, 48);
  SharpenOptions o;
  o.sigma = 1.5;
  o.linear = true;
  const Image got = sharpen(img, o);
  const cv::Mat lin = decoded(img);
  const cv::Mat b = blur_mat(lin, 1.5);
  cv::Mat want = lin + (lin - b);
  encode_to_8bit_units(want);
  CHECK(cv::norm(plane_mat(got), want, cv::NORM_INF) < 2e-3);
}
