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
  // Rows by the reader: forward with gaps, then back to the top, so strips
  // and tiles are skipped and decoded again.
  convkit::TiffReader r(bytes, "fuzz", limits);
  std::vector<unsigned char> rows(r.row_bytes() * 2);
  for (int y = 0; y + 2 <= r.height(); y += 5) r.read_rows(y, 2, rows.data());
  r.read_rows(0, 1, rows.data());
}
