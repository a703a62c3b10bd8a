#include "support/run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace convkit::test {

namespace fs = std::filesystem;

namespace {

RunResult run(const std::vector<std::string>& args, const std::string& input,
              const std::string& cwd, const RunLimits* limits) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) throw std::runtime_error("pipe failed");
  // CONVKIT_TEST_WRAPPER="/usr/bin/valgrind --error-exitcode=99 ..." runs every
  // command under a checker (scripts/valgrind.sh); words split at spaces.
  std::vector<std::string> argv_s;
  if (const char* wrapper = std::getenv("CONVKIT_TEST_WRAPPER")) {
    std::istringstream words(wrapper);
    for (std::string w; words >> w;) argv_s.push_back(w);
  }
  argv_s.push_back(CONVKIT_BINARY);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
      close(fd);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
    if (limits && !std::getenv("CONVKIT_TEST_WRAPPER")) {
#if !defined(__SANITIZE_ADDRESS__)  // ASan reserves terabytes of address space
      const rlimit mem{limits->memory_bytes, limits->memory_bytes};
      if (setrlimit(RLIMIT_AS, &mem) != 0) _exit(127);
#endif
      alarm(limits->seconds);  // kept across exec: SIGALRM ends a run that hangs
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  signal(SIGPIPE, SIG_IGN);
  RunResult r;
  std::size_t written = 0;
  int in_fd = in_pipe[1];
  const bool endless = limits && !limits->endless_input.empty();
  std::string block;
  while (endless && block.size() < 65536) block += limits->endless_input;
  if (input.empty() && !endless) {
    close(in_fd);
    in_fd = -1;
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (poll(fds, n, -1) < 0) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_fd) {
        if (endless) {  // more until the reader closes the pipe (EPIPE)
          if (write(in_fd, block.data(), block.size()) < 0) {
            close(in_fd);
            in_fd = -1;
          }
          continue;
        }
        ssize_t w = write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == input.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t k = read(fds[i].fd, buf, sizeof buf);
      if (k <= 0) {
        close(fds[i].fd);
        if (fds[i].fd == out_fd)
          out_fd = -1;
        else
          err_fd = -1;
      } else {
        (fds[i].fd == out_fd ? r.out : r.err).append(buf, static_cast<std::size_t>(k));
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace

RunResult run_convkit(const std::vector<std::string>& args, const std::string& input,
                      const std::string& cwd) {
  return run(args, input, cwd, nullptr);
}

RunResult run_convkit_limited(const std::vector<std::string>& args, const RunLimits& limits,
                              const std::string& cwd) {
  return run(args, "", cwd, &limits);
}

bool is_one_error_line(const RunResult& r) {
  if (r.err.rfind("convkit: error: ", 0) != 0) return false;
  if (r.err.find('\n') != r.err.size() - 1) return false;
  for (std::size_t i = 0; i + 1 < r.err.size(); ++i) {
    const auto c = static_cast<unsigned char>(r.err[i]);
    if (c < 0x20 || c >= 0x7F) return false;
  }
  return true;
}

std::string source_path(const std::string& rel) {
  return std::string(CONVKIT_SOURCE_DIR) + "/" + rel;
}

std::string temp_dir() {
  static int counter = 0;
  fs::path p = fs::temp_directory_path() /
               ("convkit-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(p);
  fs::create_directories(p);
  struct Cleanup {
    std::vector<fs::path> dirs;
    ~Cleanup() {
      std::error_code ec;
      for (auto& d : dirs) fs::remove_all(d, ec);
    }
  };
  static Cleanup cleanup;
  cleanup.dirs.push_back(p);
  return p.string();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + path);
}

namespace {

// "-o", "--max-pixels": a name as CLI11 prints it in a help text.
bool is_option_name(const std::string& n) {
  const std::size_t dashes = n.rfind("--", 0) == 0 ? 2 : n.rfind('-', 0) == 0 ? 1 : 0;
  if (dashes == 0 || n.size() == dashes || (dashes == 1 && n.size() != 2)) return false;
  for (std::size_t i = dashes; i < n.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(n[i])) && !(n[i] == '-' && i > dashes))
      return false;
  return true;
}

// One option line of CLI11's help ("  -o,--output TEXT  ..."): its names and
// the word after them (the value type, e.g. FLOAT, or the description).
struct HelpOption {
  std::vector<std::string> names;
  std::string type;
};

// Read by words, not std::regex: GCC 12's <regex> trips -Wmaybe-uninitialized
// under the sanitizer build's -O2.
std::vector<HelpOption> help_options(const std::string& help) {
  std::vector<HelpOption> found;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  -", 0) != 0) continue;  // options are indented by two spaces
    std::istringstream words(line);
    std::string names, type;
    words >> names >> type;
    HelpOption o;
    std::istringstream parts(names);
    for (std::string n; std::getline(parts, n, ',');) o.names.push_back(n);
    if (std::all_of(o.names.begin(), o.names.end(), is_option_name)) {
      o.type = type.substr(0, type.find_first_of(":="));
      found.push_back(std::move(o));
    }
  }
  return found;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> numeric_options_in_help(const std::string& help) {
  std::vector<std::pair<std::string, std::string>> found;
  for (const HelpOption& o : help_options(help))
    for (const std::string& n : o.names)
      if (n.rfind("--", 0) == 0 && (o.type == "FLOAT" || o.type == "INT" || o.type == "UINT")) {
        found.emplace_back(n, o.type);
        break;
      }
  return found;
}

std::vector<std::string> option_names_in_help(const std::string& help) {
  std::vector<std::string> names;
  for (const HelpOption& o : help_options(help))
    names.insert(names.end(), o.names.begin(), o.names.end());
  return names;
}

std::vector<std::string> commands_in_help(const std::string& help) {
  std::vector<std::string> commands;
  std::istringstream in(help);
  bool listing = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "Subcommands:") {
      listing = true;
    } else if (listing) {
      std::istringstream words(line);
      std::string name;
      if (line.rfind("  ", 0) != 0 || !(words >> name)) break;
      commands.push_back(name);
    }
  }
  return commands;
}

}  // namespace convkit::test
