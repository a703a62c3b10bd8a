// The output files of one command: distinct and writable before any work.
#include "cli/outputs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "convkit/error.hpp"

namespace convkit::cli {

namespace fs = std::filesystem;

namespace {

// The path with ".", ".." and every symbolic link resolved, a link to a file
// that does not exist yet included (writing through it creates its target).
fs::path resolved(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  for (int hops = 0; hops < 40 && fs::is_symlink(p, ec); ++hops) {
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) break;
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  const fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : c;
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  if (resolved(a) == resolved(b)) return true;
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

namespace {

void check_writable(const OutputPath& o) {
  const fs::path p = resolved(o.path);
  std::error_code ec;
  if (fs::is_directory(p, ec))
    throw Error(o.flag + " " + o.path + ": is a directory; give a file name");
  const fs::path dir = p.parent_path();
  if (!fs::is_directory(dir, ec))
    throw Error(o.flag + " " + o.path + ": cannot write: the directory " + dir.string() +
                " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw Error(o.flag + " " + o.path + ": cannot write into " + dir.string() + ": " +
                std::strerror(errno));
}

}  // namespace

void check_outputs(const std::vector<OutputPath>& outputs) {
  std::vector<const OutputPath*> files;
  for (const auto& o : outputs)
    if (!o.path.empty() && o.path != "-") files.push_back(&o);
  for (std::size_t i = 0; i < files.size(); ++i)
    for (std::size_t j = i + 1; j < files.size(); ++j)
      if (same_file(files[i]->path, files[j]->path))
        throw UsageError(files[i]->flag + " " + files[i]->path + " and " + files[j]->flag + " " +
                         files[j]->path + " are the same file; give each output its own name");
  for (const auto* o : files) check_writable(*o);
}

}  // namespace convkit::cli
