// convkit/filters.hpp — kernels: named filters, kernel files, inline literals.
//
// A filter file (filters/NAME.txt) is a matrix in text form whose first
// comment line is its one-line description:
//   # Sobel derivative along x (positive where intensity grows to the right)
//   -1 0 1
//   -2 0 2
//   -1 0 1
// 1D kernels are one row.  A kernel file may also be a signal in the
// two-column form "n value" (as `convkit signal` writes it): it becomes a
// one-row kernel whose first tap sits at sample index n (Kernel::origin).
#pragma once

#include <string>
#include <vector>

namespace convkit {

struct Kernel {
  int rows = 0, cols = 0;
  std::vector<double> data;  ///< row-major
  std::string name;          ///< filter name, file path or the literal
  long long origin = 0;      ///< 1D kernels: sample index of the first tap
  bool indexed = false;      ///< origin came from an "n value" file
  std::string description;
};

struct FilterInfo {
  std::string name, description, path;
  int rows = 0, cols = 0;
};

/// Where named filters live: $CONVKIT_FILTERS_DIR if set, else the build
/// tree's filters/, else the install prefix's share/convkit/filters, else
/// ../share/convkit/filters next to the executable.
std::string filters_dir();

/// All named filters, sorted by name.
std::vector<FilterInfo> list_filters();

/// Up to three of `candidates` close to `word` (a small edit distance, or a
/// misspelt start of a longer name), closest first: for "did you mean".
std::vector<std::string> close_names(const std::string& word,
                                     const std::vector<std::string>& candidates);
/// "; did you mean 'a', 'b'?" for close_names(word, candidates), or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// Resolve a kernel argument: an inline literal ("[1 2 1]", "[-1 0 1; -2 0 2; -1 0 1]"),
/// an existing file path, or a filter name.  Throws Error naming the argument
/// (and suggesting close filter names) when none fits.
Kernel load_kernel(const std::string& spec);

}  // namespace convkit
