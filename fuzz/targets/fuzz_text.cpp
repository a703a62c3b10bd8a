// Signal text, matrix text and inline literals, kernel literals.
#include <string>
#include <string_view>

#include "convkit/error.hpp"
#include "convkit/filters.hpp"
#include "convkit/io/text.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(text) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    convkit::parse_signal(text, "fuzz");
  } catch (const convkit::Error&) {
  }
  try {
    convkit::parse_matrix(text, "fuzz");
  } catch (const convkit::Error&) {
  }
  if (!text.empty() && text.front() == '[') convkit::load_kernel(std::string(text));
}
