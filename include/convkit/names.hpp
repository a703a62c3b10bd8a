// convkit/names.hpp — one name table per enum that is read from or written as
// text, used both ways: to print a value, to parse a name and to list the
// choices (in messages, and in the command line's checks and help).
//
//   inline constexpr EnumName<BlurType> kBlurTypeNames[] = {
//       {"gaussian", BlurType::gaussian}, {"box", BlurType::box}};
//   name_of(kBlurTypeNames, BlurType::box)          // "box"
//   parse_name(kBlurTypeNames, "box", "blur type")  // BlurType::box
//
// A value may have several rows (aliases); its first row is its name.
#pragma once

#include <iterator>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "convkit/error.hpp"

namespace convkit {

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

/// The enum of a name table (an array or span of EnumName<E>).
template <class Table>
using EnumOf =
    std::remove_cvref_t<decltype(std::ranges::begin(std::declval<const Table&>())->value)>;

/// The name of `v`: its first row in `table` ("?" for a value not in it).
template <class Table>
constexpr std::string_view name_of(const Table& table, EnumOf<Table> v) {
  for (const auto& row : table)
    if (row.value == v) return row.name;
  return "?";
}

/// The value named `text`, if a row has that name.
template <class Table>
constexpr std::optional<EnumOf<Table>> find_name(const Table& table, std::string_view text) {
  for (const auto& row : table)
    if (row.name == text) return row.value;
  return std::nullopt;
}

/// Every name in `table`, aliases too, in table order.
template <class Table>
std::vector<std::string> names_of(const Table& table) {
  std::vector<std::string> out;
  for (const auto& row : table) out.emplace_back(row.name);
  return out;
}

/// "a, b or c" from the names (the choices in an error message).
std::string choice_list(const std::vector<std::string>& names);

/// The message of parse_name: the text quoted for printing, the choices listed.
std::string unknown_name_message(std::string_view text, std::string_view what,
                                 const std::vector<std::string>& names);

/// The value named `text`; UsageError "unknown <what> 'text' (choose a, b or c)" otherwise.
template <class Table>
EnumOf<Table> parse_name(const Table& table, std::string_view text, std::string_view what) {
  if (const auto v = find_name(table, text)) return *v;
  throw UsageError(unknown_name_message(text, what, names_of(table)));
}

}  // namespace convkit
