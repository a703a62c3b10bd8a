// plot/file_out.hpp — internal: put bytes into a file atomically, or on stdout.
#pragma once

#include <string>
#include <string_view>

namespace convkit::plot {

/// "-" writes to standard output; any other path is written atomically
/// (temporary file in the same directory, fsync, rename).
void write_output_bytes(const std::string& path, std::string_view bytes);

}  // namespace convkit::plot
