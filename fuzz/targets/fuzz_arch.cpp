#include <string_view>

#include "convkit/arch.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(arch) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  convkit::Arch a = convkit::parse_arch(text);
  // Shape inference and receptive fields must cope with whatever parses.
  convkit::infer_shapes(a, convkit::Shape3{28, 28, 1});
  convkit::receptive_fields(a);
}
