// The streaming decoders (PNG, JPEG, PGM/PPM, .npy, BMP, TIFF by rows): open the
// input as a file, read it in uneven bands, rewind, and read the start again.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "convkit/io/rows.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(rows) {
  convkit::fuzz::with_temp_file(data, size, [](const std::string& path) {
    std::string why;
    std::unique_ptr<convkit::RowSource> src =
        convkit::open_row_source(path, true, &why, std::int64_t(1) << 22);
    if (!src) return;  // a format that is read whole
    const int w = src->width(), c = src->channels();
    std::vector<double> buf(static_cast<std::size_t>(w) * c * 3);
    std::vector<double*> planes(static_cast<std::size_t>(c));
    for (int k = 0; k < c; ++k) planes[k] = buf.data() + static_cast<std::size_t>(k) * w * 3;
    std::vector<float> fbuf(buf.size());
    std::vector<float*> fplanes(static_cast<std::size_t>(c));
    for (int k = 0; k < c; ++k) fplanes[k] = fbuf.data() + static_cast<std::size_t>(k) * w * 3;
    auto read_some = [&](int rows) {
      for (int band = 1; rows > 0 && src->next_row() < src->height(); band = band % 3 + 1) {
        const int n = std::min({band, rows, src->height() - src->next_row()});
        if (src->bit_depth() == 64)
          src->read(n, planes.data(), w);
        else
          src->read(n, fplanes.data(), w);
        rows -= n;
      }
    };
    read_some(src->height());
    if (!src->seekable()) return;
    src->rewind();
    read_some(2);
  });
}
