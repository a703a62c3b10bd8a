// convkit/io/atomic.hpp — outputs appear whole or not at all.
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace convkit {

/// Write a file atomically: `fill` writes into a temporary file in the same
/// directory, which is flushed, fsync'd and renamed over `path`.  On any
/// failure (fill throws, disk full, directory not writable) the temporary file
/// is removed, `path` is left as it was, and convkit::Error is thrown naming
/// the path and the reason.  `path` may be the input being read.
void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& fill);
void write_file_atomic(const std::string& path, std::string_view bytes);

/// Read a whole file ("-" = standard input) into memory, refusing files larger
/// than max_bytes with a clear error.
std::string read_file_bytes(const std::string& path, std::size_t max_bytes = std::size_t(1) << 32);

}  // namespace convkit
