#include <string_view>

#include "fuzz_target.hpp"
#include "io/codecs.hpp"

CONVKIT_FUZZ_TARGET(bmp_tga) {
  if (size < 1) return;
  convkit::ImageLimits limits;
  limits.max_pixels = 1 << 22;
  // The first byte picks the decoder, so one corpus covers both.
  const bool tga = data[0] & 1;
  convkit::detail::decode_bmp_tga(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), "fuzz", limits, tga);
}
