// CIFAR-10 binary batches are read from paths: the input goes through a
// temporary file.  A record is 3073 bytes (label, 1024 R, 1024 G, 1024 B); the
// reader must reject a size that is not a whole number of records, a label
// outside 0..9 and a file over the byte limit.
#include <string>
#include <vector>

#include "convkit/data/dataset.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(cifar) {
  convkit::fuzz::with_temp_file(data, size, [](const std::string& path) {
    convkit::DataLimits limits;
    limits.max_bytes = 1 << 24;
    convkit::read_cifar_batches({path}, limits);
  });
}
