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
//
// Numbers in kernels may be fractions ("1/9"), and an inline literal may be
// followed by a scale: "[1 2 1; 2 4 2; 1 2 1]/16" or "[...]*0.5".  Other
// kernel files: a libvips matrix (.mat: a header line "width height [scale
// [offset]]", then the rows; the taps are divided by scale and offset is
// added to every result, as vips_conv does), a 1-D or 2-D .npy array, or a
// grey 8- or 16-bit image (PNG, PGM, ...), whose taps are its sample values
// (0..255 or 0..65535: pair it with normalization).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace convkit {

struct Kernel {
  int rows = 0, cols = 0;
  std::vector<double> data;  ///< row-major
  std::string name;          ///< filter name, file path or the literal
  long long origin = 0;      ///< 1D kernels: sample index of the first tap
  bool indexed = false;      ///< origin came from an "n value" file
  std::string description;
  double offset = 0;  ///< added to every result of the filter (a vips .mat file's offset)
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

/// A libvips matrix file (see above), taps already divided by its scale.
/// Throws ParseError naming `name` and the line on a bad header (size not a
/// positive whole number, scale 0 or not finite), a row of the wrong length,
/// too few rows, or numbers after the last row.
Kernel parse_vips_matrix(std::string_view text, const std::string& name);

/// Divide the taps by their sum (ImageMagick's convolve:scale='!'), so a
/// constant input passes unchanged.  Throws UsageError when the sum is 0
/// (within rounding of the taps' magnitudes, as for a derivative kernel).
void normalize_kernel(Kernel& k);

}  // namespace convkit
