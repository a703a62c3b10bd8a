// src/cli/validate.hpp — checks shared by every numeric option of every command.
//
// CLI11 reads "nan", "inf" and 1e400 into a double without a word, and its
// Range validator words its limits as raw numbers (DBL_MAX prints 310
// digits).  Every numeric option goes through one of these checks instead:
// the value must be a finite number (a whole number for integer options)
// inside the option's range, and the refusal says so in plain words, e.g.
//   convkit: error: --sigma: 'nan' is not a finite number; give a number greater than 0
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace convkit::cli {

/// A finite real number; `words` is the allowed range as the user reads it
/// ("any finite number", "a number greater than 0").  lo/hi are inclusive
/// unless open_lo/open_hi.
CLI::Validator finite_range(double lo, double hi, const std::string& words, bool open_lo = false,
                            bool open_hi = false);
/// A finite number greater than 0.
CLI::Validator positive_finite();
/// Any finite number.
CLI::Validator any_finite();
/// A whole number in [lo, hi], worded "a whole number from lo to hi".
CLI::Validator whole_range(long long lo, long long hi);
/// One of `allowed`; `words` says which ("8, 16 or 32").
CLI::Validator whole_one_of(std::vector<long long> allowed, const std::string& words);
/// --bit-depth: one of `allowed`, where 32 and 64 may also be written 32f and
/// 64f (float32 / float64 samples); the f is dropped before the value is read.
CLI::Validator bit_depth_one_of(std::vector<long long> allowed, const std::string& words);

}  // namespace convkit::cli
