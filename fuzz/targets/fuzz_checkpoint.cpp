#include <string_view>

#include "convkit/train/checkpoint.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(checkpoint) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const convkit::Checkpoint c = convkit::parse_checkpoint(bytes, "fuzz.ckpt");
  // What parses must serialize back to the same bytes.
  if (convkit::serialize_checkpoint(c) != bytes) __builtin_trap();
}
