// Atomic file output: write a temporary file next to the target, flush and
// (for checkpoints) fsync it, then rename it over the target.  Readers never
// see a partial file.
#include "convkit/io/atomic.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <vector>

#include "convkit/error.hpp"

namespace convkit {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

void remove_tmp(const std::string& tmp) {
  if (!tmp.empty()) ::unlink(tmp.c_str());
}

std::string display_name(const std::string& path) {
  return path == "-" ? "<stdout>" : path;
}

// Permissions for a new file: 0666 minus the umask (mkstemp creates 0600).
mode_t new_file_mode() {
  static std::once_flag once;
  static mode_t mode = 0644;
  std::call_once(once, [] {
    mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  });
  return mode;
}

// The file a symbolic link finally points to (the path itself when it is no
// link), following a chain of links; relative links are taken from the link's
// directory.  The target need not exist yet (it is created).
std::string follow_links(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::vector<char> buf(4096);
    ssize_t n = 0;
    while ((n = ::readlink(p.c_str(), buf.data(), buf.size())) == static_cast<ssize_t>(buf.size()))
      buf.resize(buf.size() * 2);
    if (n <= 0) {
      int err = n < 0 ? errno : EINVAL;
      throw Error(path + ": cannot read the symbolic link " + p + ": " + errno_text(err));
    }
    std::string target(buf.data(), static_cast<std::size_t>(n));
    const auto slash = p.find_last_of('/');
    if (target[0] != '/' && slash != std::string::npos) target = p.substr(0, slash + 1) + target;
    p = target;
  }
  throw Error(path + ": too many levels of symbolic links");
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& fill,
                       Durability durability) {
  if (path.empty()) throw UsageError("empty output file name");
  if (path == "-") {
    fill(stdout);
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      throw Error("could not write to standard output: " + errno_text(errno));
    return;
  }
  // Through a symbolic link to its target, as `sed -i --follow-symlinks` and
  // most editors do: the temporary file is made beside the target and renamed
  // over it, so the link stays a link.
  const std::string target = follow_links(path);
  std::string dir = ".";
  std::string base = target;
  if (auto slash = target.find_last_of('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : target.substr(0, slash);
    base = target.substr(slash + 1);
  }
  if (base.empty()) throw UsageError(path + ": output path names a directory");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw UsageError(path + ": output path is a directory");
  mode_t mode = (::stat(path.c_str(), &st) == 0) ? (st.st_mode & 07777) : new_file_mode();

  // Prefer an unnamed file (O_TMPFILE): if the process is killed, even by
  // SIGKILL, before the file is complete, nothing is left behind.  It gets a
  // name only when complete, and is then renamed over the target at once.
  // File systems without O_TMPFILE fall back to a named temporary file.
  std::string tmp;
  bool unnamed = false;
  int fd = -1;
#ifdef O_TMPFILE
  fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
  unnamed = fd >= 0;
#endif
  const std::string tmpl = (dir == "/" ? std::string("/") : dir + "/") + "." + base + ".tmp.XXXXXX";
  if (!unnamed) {
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    fd = ::mkstemp(name.data());
    if (fd < 0) {
      int err = errno;
      throw Error(path + ": cannot create a temporary file in " + dir + ": " + errno_text(err));
    }
    tmp = name.data();
  }
  std::FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    ::close(fd);
    remove_tmp(tmp);
    throw Error(path + ": cannot open temporary file: " + errno_text(err));
  }
  auto fail = [&](const std::string& what, int err) {
    std::fclose(f);
    remove_tmp(tmp);
    throw Error(path + ": " + what + ": " + errno_text(err));
  };
  try {
    fill(f);
  } catch (...) {
    std::fclose(f);
    remove_tmp(tmp);
    throw;
  }
  errno = 0;
  if (std::fflush(f) != 0 || std::ferror(f)) fail("write failed", errno ? errno : EIO);
  if (::fchmod(::fileno(f), mode) != 0) fail("cannot set permissions", errno);
  if (durability == Durability::durable && ::fsync(::fileno(f)) != 0) fail("fsync failed", errno);
  if (unnamed) {
    // Give the finished file a temporary name (linkat through /proc, which
    // needs no privilege), then rename it into place.
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    for (int attempt = 0;; ++attempt) {
      std::vector<char> name(tmpl.begin(), tmpl.end());
      name.push_back('\0');
      // mkstemp-style unique name without creating the file.
      static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
      unsigned long long r = (static_cast<unsigned long long>(::getpid()) << 20) ^
                             reinterpret_cast<std::uintptr_t>(&name) ^
                             static_cast<unsigned long long>(attempt) * 0x9E3779B97F4A7C15ULL;
      for (std::size_t i = name.size() - 7; i < name.size() - 1; ++i) {
        name[i] = alphabet[r % 36];
        r /= 36;
      }
      if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, name.data(), AT_SYMLINK_FOLLOW) == 0) {
        tmp = name.data();
        break;
      }
      int err = errno;
      if (err != EEXIST || attempt > 100) {
        std::fclose(f);
        throw Error(path + ": cannot name the finished file in " + dir + ": " + errno_text(err));
      }
    }
  }
  if (std::fclose(f) != 0) {
    int err = errno;
    remove_tmp(tmp);
    throw Error(path + ": write failed: " + errno_text(err));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    int err = errno;
    remove_tmp(tmp);
    throw Error(path + ": cannot rename the temporary file into place: " + errno_text(err));
  }
  if (durability != Durability::durable) return;
  // Make the rename itself durable (best effort: some file systems refuse).
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, std::string_view bytes, Durability durability) {
  write_file_atomic(
      path,
      [&](std::FILE* f) {
        if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
          throw Error(display_name(path) + ": write failed: " + errno_text(errno));
      },
      durability);
}

std::string read_file_bytes(const std::string& path, std::size_t max_bytes) {
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? "<stdin>" : path;
  std::FILE* f = is_stdin ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) {
    int err = errno;
    throw Error(name + ": cannot open: " + errno_text(err));
  }
  struct Closer {
    std::FILE* f;
    bool own;
    ~Closer() {
      if (own) std::fclose(f);
    }
  } closer{f, !is_stdin};
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw Error(name + ": is a directory, not a file");
    if (S_ISREG(st.st_mode) && static_cast<unsigned long long>(st.st_size) > max_bytes)
      throw Error(name + ": file is too large (" + std::to_string(st.st_size) +
                  " bytes; the limit is " + std::to_string(max_bytes) + ")");
  }
  std::string out;
  if (S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    std::size_t n = std::fread(buf, 1, sizeof buf, f);
    if (n > 0) {
      if (out.size() + n > max_bytes)
        throw Error(name + ": input is too large (more than " + std::to_string(max_bytes) +
                    " bytes)");
      out.append(buf, n);
    }
    if (n < sizeof buf) {
      if (std::ferror(f)) {
        int err = errno;
        throw Error(name + ": read failed: " + errno_text(err));
      }
      break;
    }
  }
  return out;
}

}  // namespace convkit
