// CIFAR-10 binary batches are read from paths: the input goes through a
// temporary file.  A record is 3073 bytes (label, 1024 R, 1024 G, 1024 B); the
// reader must reject a size that is not a whole number of records, a label
// outside 0..9 and a file over the byte limit.
#include <unistd.h>

#include <string>
#include <vector>

#include "convkit/data/dataset.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(cifar) {
  char path[] = "/tmp/convkit-fuzz-cifar-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return;
  struct Remove {
    const char* p;
    ~Remove() { unlink(p); }
  } remove{path};
  const bool ok = write(fd, data, size) == static_cast<ssize_t>(size);
  close(fd);
  if (!ok) return;
  convkit::DataLimits limits;
  limits.max_bytes = 1 << 24;
  convkit::read_cifar_batches({path}, limits);
}
