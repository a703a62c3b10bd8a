#include <string_view>
#include <vector>

#include "convkit/io/tiff.hpp"
#include "fuzz_target.hpp"
#include "io/codecs.hpp"

CONVKIT_FUZZ_TARGET(tiff) {
  convkit::ImageLimits limits;
  limits.max_pixels = 1 << 22;  // keep the fuzzer's memory small
  limits.keep_float64 = true;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  convkit::detail::decode_tiff(bytes, "fuzz", limits);
  // Rows backwards in steps, so strips and tiles are decoded out of order.
  convkit::TiffReader r(bytes, "fuzz", limits);
  std::vector<unsigned char> rows(r.row_bytes() * 2);
  for (int y = r.height() - 2; y >= 0; y -= 5) r.read_rows(y, 2, rows.data());
}
