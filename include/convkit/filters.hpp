// convkit/filters.hpp — kernels: named filters, kernel files, inline literals.
//
// A filter file (filters/NAME.txt) is a matrix in text form whose first
// comment line is its one-line description:
//   # Sobel derivative along x (positive where intensity grows to the right)
//   -1 0 1
//   -2 0 2
//   -1 0 1
// An optional line "# origin: R C" sets the kernel's centre (default the
// middle, (K-1)/2); 1D kernels are one row.
#pragma once

#include <string>
#include <vector>

namespace convkit {

struct Kernel {
  int rows = 0, cols = 0;
  std::vector<double> data;  ///< row-major
  std::string name;          ///< filter name, file path or the literal
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

/// Resolve a kernel argument: an inline literal ("[1 2 1]", "[-1 0 1; -2 0 2; -1 0 1]"),
/// an existing file path, or a filter name.  Throws Error naming the argument
/// (and suggesting close filter names) when none fits.
Kernel load_kernel(const std::string& spec);

}  // namespace convkit
