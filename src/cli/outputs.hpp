// src/cli/outputs.hpp — the output files of one command, checked before any work.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace convkit::cli {

/// One output of a command: the flag that names it and the path given
/// (empty or "-" = not a file, skipped).
struct OutputPath {
  std::string flag, path;
};

/// Whether two paths name the same file (see check_outputs).
bool same_file(const std::string& a, const std::string& b);

/// Refuse (UsageError) two outputs that are the same file: compared after
/// resolving ".", "..", relative paths and symbolic links, and by device and
/// inode when both exist (hard links).  Then check that each output can be
/// written (Error): its directory exists and is writable, and the path is not
/// a directory.  Call before the first output is written.
void check_outputs(const std::vector<OutputPath>& outputs);

}  // namespace convkit::cli
