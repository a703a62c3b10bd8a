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

}  // namespace convkit::fuzz
