// IDX files are read from a path (plain or gzip'd): the input goes through a
// temporary file.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "convkit/data/dataset.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(idx) {
  char path[] = "/tmp/convkit-fuzz-idx-XXXXXX";
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
  convkit::read_idx(path, limits);
}
