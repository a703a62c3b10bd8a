#include <string_view>

#include "fuzz_target.hpp"
#include "io/codecs.hpp"

CONVKIT_FUZZ_TARGET(png) {
  convkit::ImageLimits limits;
  limits.max_pixels = 1 << 22;  // keep the fuzzer's memory small
  convkit::detail::decode_png(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz",
                              limits);
}
