// convkit/io/atomic.hpp — outputs appear whole or not at all.
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace convkit {

/// How hard an atomic write tries to survive a crash of the whole machine.
///   process: the file appears whole or not at all if convkit is killed or
///            fails (rename of a complete file); the fast default for outputs
///   durable: also fsync the file and its directory before and after the
///            rename, so a power loss cannot leave a torn file (checkpoints)
enum class Durability { process, durable };

/// Write a file atomically: `fill` writes into an unnamed temporary file in
/// the same directory (O_TMPFILE; a named one where unsupported), which is
/// flushed and renamed over `path`.  On any failure (fill throws, disk full,
/// directory not writable) nothing is left behind, `path` is as it was, and
/// convkit::Error is thrown naming the path and the reason.  Killing the
/// process at any moment, even with SIGKILL, leaves no partial file.  `path`
/// may be the input being read.  When `path` is a symbolic link (or a chain
/// of them), the file it points to is written and the link stays a link.
void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& fill,
                       Durability durability = Durability::process);
void write_file_atomic(const std::string& path, std::string_view bytes,
                       Durability durability = Durability::process);

/// Read a whole file ("-" = standard input) into memory, refusing files larger
/// than max_bytes with a clear error.
std::string read_file_bytes(const std::string& path, std::size_t max_bytes = std::size_t(1) << 32);

}  // namespace convkit
