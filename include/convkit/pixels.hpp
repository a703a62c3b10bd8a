// convkit/pixels.hpp — the engine on 8- and 16-bit interleaved pixels.
//
// The same correlation as conv2d() on float planes (convkit/engine.hpp), run
// on integer pixels as decoders give them: rows of interleaved channels
// (RGBRGB...), 8 or 16 bits a sample.  No whole float plane is made: each
// thread converts a band of rows to float on the fly into a small buffer
// (a few hundred KiB, so it stays in the cache), runs the engine's own row
// loops on it (the interleaved row is filtered as it is: tap t of channel c
// reads sample (x + t) * channels + c), and rounds each output row back.
//
// The float arithmetic per sample is the float path's, operation for
// operation (the same float taps, the same multiply-adds in the same order),
// so the float result is bit-identical to filtering the image's float planes
// with conv2d() and the same schedule; an integer output is that float
// rounded half up and clamped to the type's range, as write_image() rounds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "convkit/engine.hpp"

namespace convkit {

/// Interleaved pixels: sample (y, x, c) is data[y * stride + x * channels + c]
/// (stride in samples, at least cols * channels).
template <class T>
struct Pixels {
  T* data = nullptr;
  int rows = 0, cols = 0, channels = 1;
  std::ptrdiff_t stride = 0;
};

/// The (In, Out) sample types the integer path is built for: M(In, Out) for each.
#define CONVKIT_FOR_PIXEL_TYPES(M) \
  M(std::uint8_t, std::uint8_t)    \
  M(std::uint8_t, std::int16_t)    \
  M(std::uint8_t, float)           \
  M(std::uint16_t, std::uint16_t)  \
  M(std::uint16_t, float)

/// Correlate each channel of `in` with `kernel` (odd KH x KW, correlation
/// form), same-size output, samples outside the image made up by `border`
/// (each axis its own rule; under Border::zero the samples are border.value).
/// In -> Out as CONVKIT_FOR_PIXEL_TYPES lists; an integer Out is the float
/// result rounded half up and clamped, a float Out the float result itself.
/// `schedule` as conv2d(): automatic picks what conv2d() would pick for one
/// plane of the image (an FFT converts whole planes: it is for large kernels,
/// where the conversion costs little); reference is not offered here.
/// Throws UsageError on an even kernel size, mismatched shapes or a schedule
/// of reference, Error for separable with a kernel that is not rank 1; `in`
/// and `out` must not overlap.
template <class In, class Out>
void conv2d_pixels(Pixels<const In> in, View<const float> kernel, const BorderRule& border,
                   Pixels<Out> out, Schedule schedule = Schedule::automatic);

}  // namespace convkit
