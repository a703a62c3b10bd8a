// The messages of convkit/names.hpp.
#include "convkit/names.hpp"

#include "convkit/io/text.hpp"

namespace convkit {

std::string choice_list(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

std::string unknown_name_message(std::string_view text, std::string_view what,
                                 const std::vector<std::string>& names) {
  return "unknown " + std::string(what) + " '" + quote_for_message(text) + "' (choose " +
         choice_list(names) + ")";
}

}  // namespace convkit
