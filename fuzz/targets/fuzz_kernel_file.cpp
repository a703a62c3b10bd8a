// Kernel files and kernel literals with a scale: libvips matrix files (.mat),
// inline literals "[...]/N" with fractions, and any file load_kernel reads
// (matrix text, .npy, a grey image).  Every kernel that loads is normalized
// too (refused cleanly when its taps sum to 0).
#include <string>
#include <string_view>

#include "convkit/error.hpp"
#include "convkit/filters.hpp"
#include "fuzz_target.hpp"

namespace {

void normalize_if_possible(convkit::Kernel k) {
  try {
    convkit::normalize_kernel(k);
  } catch (const convkit::Error&) {
  }
}

}  // namespace

CONVKIT_FUZZ_TARGET(kernel_file) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    normalize_if_possible(convkit::parse_vips_matrix(text, "fuzz.mat"));
  } catch (const convkit::Error&) {
  }
  if (!text.empty() && text.front() == '[') {
    try {
      normalize_if_possible(convkit::load_kernel(std::string(text)));
    } catch (const convkit::Error&) {
    }
  }
  convkit::fuzz::with_temp_file(data, size, [](const std::string& path) {
    normalize_if_possible(convkit::load_kernel(path));
  });
}
