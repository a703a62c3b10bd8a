// cli/signal_input.hpp — read a 1D signal file for plotting: one value per
// line (or one row of values), or "n value" lines with ascending indices.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "convkit/data_table.hpp"
#include "convkit/error.hpp"
#include "convkit/io/text.hpp"

namespace convkit::cli {

inline Signal load_signal(const std::string& path, const std::int64_t* origin) {
  const std::string name = path == "-" ? "<stdin>" : path;
  const DataTable t = read_data_table(path);
  Signal s;
  if (t.cols == 1 || t.rows == 1) {
    s.values = t.data;
    s.origin = origin ? *origin : 0;
    return s;
  }
  if (t.cols != 2)
    throw ParseError(name + ": a signal has one value per line or 'n value' lines, not " +
                     std::to_string(t.cols) + " columns");
  if (origin) throw UsageError("--origin applies to one-column signals; " + name + " gives indices");
  for (std::int64_t r = 0; r < t.rows; ++r) {
    const double n = t.at(r, 0);
    if (n != std::floor(n) || std::abs(n) > 1e15)
      throw ParseError(name + ": row " + std::to_string(r + 1) + ": index is not an integer");
    const auto idx = static_cast<std::int64_t>(n);
    if (r == 0) {
      s.origin = idx;
    } else {
      const std::int64_t next = s.origin + static_cast<std::int64_t>(s.values.size());
      if (idx < next)
        throw ParseError(name + ": row " + std::to_string(r + 1) + ": indices must ascend");
      if (idx - next > 100'000'000)
        throw ParseError(name + ": row " + std::to_string(r + 1) + ": gap in indices too large");
      s.values.resize(static_cast<std::size_t>(idx - s.origin), 0.0);
    }
    s.values.push_back(t.at(r, 1));
  }
  return s;
}

}  // namespace convkit::cli
