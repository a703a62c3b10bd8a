// Signal text, matrix text and inline literals, kernel literals, and the
// escaping of input bytes quoted in error messages.
#include <string>
#include <string_view>

#include "convkit/error.hpp"
#include "convkit/filters.hpp"
#include "convkit/io/text.hpp"
#include "fuzz_target.hpp"

CONVKIT_FUZZ_TARGET(text) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Error messages quote input bytes: escaping must hold for any bytes.
  const std::string quoted = convkit::quote_for_message(text, 64);
  for (char c : quoted)
    if (c == '\0' || c == '\n') __builtin_trap();
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
