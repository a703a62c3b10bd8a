#include <unistd.h>

#include "fuzz_target.hpp"

#include "convkit/error.hpp"

namespace convkit::fuzz {

std::vector<Target>& targets() {
  static std::vector<Target> t;
  return t;
}

void run_guarded(TargetFn fn, const std::uint8_t* data, std::size_t size) {
  try {
    fn(data, size);
  } catch (const convkit::Error&) {
    // A clean, typed rejection of bad input: exactly what we want.
  }
}

void with_temp_file(const std::uint8_t* data, std::size_t size,
                    const std::function<void(const std::string&)>& read) {
  char path[] = "/tmp/convkit-fuzz-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return;
  struct Remove {
    const char* p;
    ~Remove() { unlink(p); }
  } remove{path};
  const bool ok = write(fd, data, size) == static_cast<ssize_t>(size);
  close(fd);
  if (ok) read(path);
}

}  // namespace convkit::fuzz
