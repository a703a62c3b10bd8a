// [names] the enum name tables (convkit/names.hpp): every name parses to its
// value, every value prints as its first name, and an unknown name lists the
// choices — through the tables and through the public parse/to_string calls.
#include <doctest/doctest.h>

#include "convkit/colour.hpp"
#include "convkit/engine.hpp"
#include "convkit/filtering.hpp"
#include "convkit/names.hpp"
#include "convkit/nn/optim.hpp"

using namespace convkit;

namespace {
// Each name parses (by `parse`) to its row's value, and the value prints (by
// `print`) as the first row that has it.
template <class Table, class Parse, class Print>
void check_both_ways(const Table& table, Parse parse, Print print) {
  for (const auto& row : table) {
    CAPTURE(std::string(row.name));
    CHECK(parse(row.name) == row.value);
    for (const auto& first : table)
      if (first.value == row.value) {
        CHECK(print(row.value) == first.name);
        break;
      }
  }
}
}  // namespace

TEST_CASE("[names] each table reads and writes the same names") {
  check_both_ways(kBorderNames, parse_border, [](Border b) { return to_string(b); });
  check_both_ways(kSizeModeNames, parse_size_mode, [](SizeMode m) { return to_string(m); });
  check_both_ways(kEdgeOperatorNames, parse_edge_operator,
                  [](EdgeOperator o) { return to_string(o); });
  check_both_ways(kEdgeDirectionNames, parse_edge_direction,
                  [](EdgeDirection d) { return to_string(d); });
  check_both_ways(kBlurTypeNames, parse_blur_type, [](BlurType t) { return to_string(t); });
  check_both_ways(kAlphaModeNames, parse_alpha_mode, [](AlphaMode m) { return to_string(m); });
  check_both_ways(nn::kOptimizerNames, nn::parse_optimizer,
                  [](nn::OptimizerKind k) { return name_of(nn::kOptimizerNames, k); });
  check_both_ways(nn::kScheduleNames, nn::parse_schedule,
                  [](nn::ScheduleKind k) { return name_of(nn::kScheduleNames, k); });
  // The aliases print as the mode's own name.
  CHECK(to_string(parse_border("mirror")) == "reflect");
  CHECK(to_string(parse_border("zeros")) == "zero");
  CHECK(to_string(SizeMode::pad) == "pad");
}

TEST_CASE("[names] an unknown name is refused with the table's choices") {
  CHECK_THROWS_WITH_AS(parse_blur_type("median"),
                       "unknown blur type 'median' (choose box or gaussian)", UsageError);
  CHECK_THROWS_WITH_AS(nn::parse_schedule("linear"),
                       "unknown learning-rate schedule 'linear' (choose constant, step, cosine, "
                       "onecycle or triangular)",
                       UsageError);
  CHECK_THROWS_WITH_AS(parse_size_mode("pad"), "unknown mode 'pad' (choose full, same or valid)",
                       UsageError);
  CHECK_THROWS_AS(parse_border("mirrors"), UsageError);
  CHECK(choice_list({"a"}) == "a");
  CHECK(choice_list({"a", "b", "c"}) == "a, b or c");
}
