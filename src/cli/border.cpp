// --padding MODE or ROWS,COLS and --border-value V: the border of every
// filtering command, in one place (see command.hpp).
#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"

namespace convkit::cli {

void add_border_value_option(CLI::App* sub, std::optional<double>& value) {
  sub->add_option("--border-value", value,
                  "With --padding constant (or zero): the value of the samples outside the "
                  "image, in its units (0..255 for 8-bit, 0..65535 for 16-bit), scipy's cval "
                  "(default 0)")
      ->check(any_finite());
}

BorderRule border_from_flags(const std::string& padding, const std::optional<double>& value) {
  BorderRule b = parse_border_rule(padding);
  if (value) {
    if (!b.uses_value())
      throw UsageError(
          "--border-value applies with --padding constant (or zero) on an axis; "
          "--padding is '" +
          padding + "'");
    b.value = *value;
  }
  return b;
}

}  // namespace convkit::cli
