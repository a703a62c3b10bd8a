#include <string_view>

#include "convkit/io/npy.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(npy) {
  convkit::parse_npy(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz",
                     std::int64_t(1) << 22);
}
