// IDX files are read from a path (plain or gzip'd): the input goes through a
// temporary file.
#include <string>

#include "convkit/data/dataset.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(idx) {
  convkit::fuzz::with_temp_file(data, size, [](const std::string& path) {
    convkit::DataLimits limits;
    limits.max_bytes = 1 << 24;
    convkit::read_idx(path, limits);
  });
}
