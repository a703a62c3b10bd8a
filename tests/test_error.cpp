// [error] messages that name parameters: what() gives the library's names,
// message() the names a front end spells them by.
#include <doctest/doctest.h>

#include "convkit/error.hpp"
#include "convkit/filtering.hpp"

using namespace convkit;

TEST_CASE("[error] a Message renders its parameters by the caller's spelling") {
  const UsageError e("give " + param("sigma_y") + " with " + param("type") + " gaussian, not " +
                     std::string("{box}"));
  CHECK(std::string(e.what()) == "give sigma_y with type gaussian, not {box}");
  CHECK(e.message([](const std::string& n) { return "<" + n + ">"; }) ==
        "give <sigma_y> with <type> gaussian, not {box}");
  const Error plain("no parameters here");
  CHECK(plain.message([](const std::string&) { return std::string("x"); }) == "no parameters here");
}

TEST_CASE("[error] with_context puts a file's name first and keeps the parameters") {
  const Error e(param("clip") + " or " + param("abs"));
  const Error named = e.with_context("in.png: ");
  CHECK(std::string(named.what()) == "in.png: clip or abs");
  CHECK(named.message([](const std::string& n) { return "--" + n; }) == "in.png: --clip or --abs");
  CHECK(Error("plain").with_context("f: ").message(
            [](const std::string&) { return std::string("x"); }) == "f: plain");
}

TEST_CASE("[error] blur's errors name its options' fields, not command-line flags") {
  BlurOptions o;
  o.type = BlurType::box;
  o.sigma = 2;
  CHECK_THROWS_WITH_AS(resolve_blur(o), "sigma applies to type gaussian, not box", UsageError);
  o.type = BlurType::gaussian;
  o.sigma = -1;
  CHECK_THROWS_WITH_AS(resolve_blur(o), "sigma must be positive (got -1)", UsageError);
}
