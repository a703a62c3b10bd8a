// [sweep] every command with every hostile input class, table-driven.
//
// Each row runs the real binary once on one hostile input and checks the
// rule of docs/hardening.md: exit status 1 (failed work) or 2 (wrong command
// line) as the row expects; stderr is one line starting "convkit: error: ",
// printable UTF-8, naming the file (its base name) or the option; standard
// output is empty; and no file is left behind, neither an output nor a
// temporary one.  The commands come from `convkit --help` and the numeric
// options from each command's --help, so a new command or option is swept
// as soon as it exists (a command without a row fails the test).
//
// The only lines allowed besides the error line: an architecture-language
// error is followed by the source line and a caret line under the token
// (documented in docs/hardening.md); rows marked `arch` accept exactly those.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "convkit/io/npy.hpp"
#include "support/run.hpp"

using convkit::test::numeric_options_in_help;
using convkit::test::read_file;
using convkit::test::run_convkit;
using convkit::test::RunResult;
using convkit::test::temp_dir;
using convkit::test::write_file;
namespace fs = std::filesystem;

namespace {

struct Row {
  std::string id;                  // "command what", unique
  std::vector<std::string> args;   // args[0] is the command
  int status = 1;                  // expected exit status
  std::vector<std::string> names;  // the message must contain one of these
  bool arch = false;               // an architecture error: source line and carets may follow
};

// Every byte printable: valid UTF-8 with no control character (C0, DEL, C1).
bool printable_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      ++i;
      continue;
    }
    int len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (len == 0 || (c >= 0xF5) || i + static_cast<std::size_t>(len) > s.size()) return false;
    std::uint32_t cp = c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0))
      return false;
    i += static_cast<std::size_t>(len);
  }
  return true;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < s.size()) {
    auto nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// What is wrong with the stderr of a refusal; empty when it follows the rule.
std::string stderr_problem(const std::string& err, bool arch) {
  if (err.empty() || err.back() != '\n') return "stderr does not end with a newline";
  const auto lines = split_lines(err);
  if (lines[0].rfind("convkit: error: ", 0) != 0) return "the first line is not the error line";
  for (const auto& l : lines)
    if (!printable_utf8(l)) return "a byte is not printable UTF-8";
  if (lines.size() == 1) return "";
  if (arch && lines.size() == 3 && lines[1].rfind("  ", 0) == 0 &&
      lines[2].find_first_not_of(" ^~") == std::string::npos &&
      lines[2].find('^') != std::string::npos)
    return "";
  return "stderr has " + std::to_string(lines.size()) + " lines";
}

std::set<std::string> snapshot(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    names.insert(fs::relative(e.path(), dir).string());
  return names;
}

// The commands listed under "Subcommands:" in `convkit --help`.
std::vector<std::string> commands_from_help() {
  const auto r = run_convkit({"--help"});
  std::vector<std::string> commands;
  bool in_list = false;
  for (const auto& line : split_lines(r.out)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (line.empty()) break;
    std::istringstream words(line);
    std::string name;
    if (words >> name) commands.push_back(name);
  }
  return commands;
}

std::string cut(const std::string& bytes) {
  return bytes.substr(0, bytes.size() / 2);
}

std::string encode(const cv::Mat& m, const std::string& ext) {
  std::vector<uchar> buf;
  REQUIRE(cv::imencode(ext, m, buf));
  return {buf.begin(), buf.end()};
}

// A 16x12 uncompressed 24-bit TGA (OpenCV writes none), and a float32 .npy
// of the same size.
std::string tga_file() {
  std::string s(18, '\0');
  s[2] = 2;
  s[12] = 16;
  s[14] = 12;
  s[16] = 24;
  for (int i = 0; i < 16 * 12 * 3; ++i) s += static_cast<char>(i * 7);
  return s;
}

std::string npy_file() {
  convkit::NpyArray a;
  a.shape = {12, 16};
  for (int i = 0; i < 12 * 16; ++i) a.data.push_back(i * 0.5);
  return convkit::encode_npy(a, convkit::NpyType::f4);
}

// Bytes that are no image and no text: a fixed pseudo-random sequence that
// starts with a NUL and a control byte.
std::string garbage() {
  std::string s = std::string("\x00\x01", 2);
  std::uint32_t x = 2463534242U;
  for (int i = 0; i < 510; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s += static_cast<char>(x & 0xFF);
  }
  return s;
}

// The input files, all small, in DIR/in; outputs go to DIR/o.
void make_inputs(const std::string& dir) {
  const std::string in = dir + "/in/";
  fs::create_directories(in + "adir");
  fs::create_directories(dir + "/o");
  cv::Mat grey(12, 16, CV_8UC1), rgb(12, 16, CV_8UC3);
  cv::theRNG().state = 13;
  cv::randu(grey, 0, 256);
  cv::randu(rgb, 0, 256);
  REQUIRE(cv::imwrite(in + "g.png", grey));
  write_file(in + "trunc.png", cut(encode(rgb, ".png")));
  write_file(in + "trunc.jpg", cut(encode(rgb, ".jpg")));
  write_file(in + "trunc.bmp", cut(encode(rgb, ".bmp")));
  write_file(in + "trunc.pgm", cut(encode(grey, ".pgm")));
  write_file(in + "trunc.ppm", cut(encode(rgb, ".ppm")));
  write_file(in + "trunc.tif", cut(encode(rgb, ".tif")));
  write_file(in + "trunc.tga", cut(tga_file()));
  write_file(in + "trunc.npy", cut(npy_file()));
  write_file(in + "garbage.bin", garbage());
  write_file(in + "empty.txt", "");
  write_file(in + "empty.png", "");
  write_file(in + "m.txt", "1 2 3\n4 5 6\n7 8 9\n");
  write_file(in + "s.txt", "1\n2\n3\n2\n1\n");
  write_file(in + "t.txt", "1 2\n3 4\n5 7\n");
  write_file(in + "ragged.txt", "1 2 3\n4 5\n6 7 8\n");
  write_file(in + "bad.arch", "CONV3-4 ReLU\nCONV3- FC-2\n");
  write_file(in + "nul.arch", std::string("CONV3-4\0 FC-2\n", 14));
  // A data set of two classes of 4x4 images, and a model trained on it.
  for (const char* cls : {"a", "b"}) {
    fs::create_directories(in + "data/" + cls);
    for (int i = 0; i < 3; ++i) {
      cv::Mat img(4, 4, CV_8UC1);
      cv::randu(img, 0, 256);
      REQUIRE(cv::imwrite(in + "data/" + cls + "/" + std::to_string(i) + ".png", img));
    }
  }
  const auto t = run_convkit({"train", "--data", "in/data", "--arch", "FLATTEN FC-2", "--epochs",
                              "1", "--threads", "1", "-q", "-o", "in/good.ckpt"},
                             "", dir);
  REQUIRE_MESSAGE(t.status == 0, t.err);
  const std::string ckpt = read_file(in + "good.ckpt");
  write_file(in + "cut.ckpt", cut(ckpt));
  std::string flipped = ckpt;
  flipped[flipped.size() - 5] = static_cast<char>(flipped[flipped.size() - 5] ^ 0x10);
  write_file(in + "flipped.ckpt", flipped);
}

// A valid run of each command that writes into o/; a numeric option is added
// to it (replacing the same option if the base has it).
const std::map<std::string, std::vector<std::string>>& base_runs() {
  static const std::map<std::string, std::vector<std::string>> runs = {
      {"convolve", {"convolve", "in/g.png", "[1 2 1]", "--clip", "-o", "o/out.png"}},
      {"blur", {"blur", "in/g.png", "-o", "o/out.png"}},
      {"edge", {"edge", "in/g.png", "-o", "o/out.png"}},
      {"median", {"median", "in/g.png", "-o", "o/out.png"}},
      {"sharpen", {"sharpen", "in/g.png", "-o", "o/out.png"}},
      {"filters", {"filters"}},
      {"signal", {"signal", "rect", "--length", "5", "-o", "o/out.txt"}},
      {"plot", {"plot", "in/s.txt", "-o", "o/out.png"}},
      {"shape", {"shape", "CONV3-2 FC-3", "-i", "8x8x1"}},
      {"receptive-field", {"receptive-field", "--layers", "2", "--kernel", "3"}},
      {"train",
       {"train", "--data", "in/data", "--arch", "FLATTEN FC-2", "--epochs", "1", "-q", "-o",
        "o/m.ckpt"}},
      {"eval", {"eval", "-m", "in/good.ckpt", "--data", "in/data"}},
      {"predict", {"predict", "-m", "in/good.ckpt", "in/data/a/0.png"}},
      {"normalize", {"normalize", "in/t.txt", "-q", "-o", "o/out.txt"}},
      {"sample", {"sample", "gaussian", "--count", "5", "--seed", "1", "-o", "o/out.txt"}},
  };
  return runs;
}

std::vector<std::string> with_option(std::vector<std::string> args, const std::string& option,
                                     const std::string& value) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == option) {
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                 args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      break;
    }
  args.push_back(option);
  args.push_back(value);
  return args;
}

// The hostile files every file-reading slot gets, with the name the message
// must contain.
struct Hostile {
  std::string what, path, name;
};

std::vector<Hostile> hostile_images() {
  std::vector<Hostile> h;
  for (const char* ext : {"png", "jpg", "bmp", "tga", "pgm", "ppm", "tif", "npy"})
    h.push_back({std::string("truncated ") + ext, std::string("in/trunc.") + ext,
                 std::string("trunc.") + ext});
  return h;
}

std::vector<Hostile> hostile_files(const std::string& empty_name) {
  return {{"garbage", "in/garbage.bin", "garbage.bin"},
          {"empty", "in/" + empty_name, empty_name},
          {"directory", "in/adir", "adir"},
          {"missing", "in/missing.txt", "missing.txt"},
          {"/dev/zero", "/dev/zero", "/dev/zero"}};
}

std::vector<Row> build_table(const std::map<std::string, std::string>& helps) {
  std::vector<Row> rows;
  auto add = [&](std::string id, std::vector<std::string> args, int status,
                 std::vector<std::string> names, bool arch = false) {
    rows.push_back({std::move(id), std::move(args), status, std::move(names), arch});
  };

  // Images and other files where an image is read.
  std::vector<Hostile> image_inputs = hostile_images();
  for (const auto& h : hostile_files("empty.png")) image_inputs.push_back(h);
  for (const char* cmd : {"blur", "edge", "median", "sharpen"})
    for (const auto& h : image_inputs)
      add(std::string(cmd) + " input " + h.what, {cmd, h.path, "-o", "o/out.png"}, 1, {h.name});
  for (const auto& h : image_inputs) {
    add("convolve input " + h.what, {"convolve", h.path, "[1 2 1]", "-o", "o/out.png"}, 1,
        {h.name});
    add("predict image " + h.what, {"predict", "-m", "in/good.ckpt", h.path}, 1, {h.name});
  }
  // Text where a kernel, a signal, a table or a filter name is read.  A
  // kernel is a literal, a filter name or a regular file: a missing path, a
  // directory or a device is a wrong command line (exit 2), a file that cannot
  // be parsed failed work (exit 1).
  for (const auto& h : hostile_files("empty.txt")) {
    const int kernel_status = h.what == "garbage" || h.what == "empty" ? 1 : 2;
    add("convolve kernel " + h.what, {"convolve", "in/m.txt", h.path, "-o", "o/out.txt"},
        kernel_status, {h.name});
    add("filters name " + h.what, {"filters", h.path}, kernel_status, {h.name});
    add("plot input " + h.what, {"plot", h.path, "-o", "o/out.png"}, 1, {h.name});
    add("normalize input " + h.what, {"normalize", h.path, "-q", "-o", "o/out.txt"}, 1, {h.name});
  }
  add("convolve kernel truncated npy", {"convolve", "in/m.txt", "in/trunc.npy"}, 1, {"trunc.npy"});
  add("convolve kernel ragged file", {"convolve", "in/m.txt", "in/ragged.txt"}, 1, {"ragged.txt"});
  add("convolve input ragged file", {"convolve", "in/ragged.txt", "[1 2 1]", "-o", "o/out.txt"}, 1,
      {"ragged.txt"});
  add("convolve kernel ragged literal", {"convolve", "in/m.txt", "[1 2; 3]", "-o", "o/out.txt"}, 2,
      {"[1 2; 3]", "KERNEL"});
  add("convolve kernel unknown name", {"convolve", "in/m.txt", "sobel-q", "-o", "o/out.txt"}, 2,
      {"sobel-q"});
  add("filters unknown name", {"filters", "sobel-q"}, 2, {"sobel-q"});
  add("normalize ragged table", {"normalize", "in/ragged.txt", "-q", "-o", "o/out.txt"}, 1,
      {"ragged.txt"});
  add("convolve huge --pad", {"convolve", "in/m.txt", "[1]", "--pad", "100000", "-o", "o/o.txt"}, 2,
      {"--pad"});
  add("convolve huge --pad image",
      {"convolve", "in/g.png", "[1]", "--pad", "100000", "-o", "o/out.png"}, 2, {"--pad"});
  add("convolve --pad nan", {"convolve", "in/m.txt", "[1]", "--pad", "nan"}, 2, {"--pad"});
  add("convolve --stride inf", {"convolve", "in/m.txt", "[1]", "--stride", "inf"}, 2, {"--stride"});
  add("convolve --stride huge", {"convolve", "in/m.txt", "[1]", "--stride", "99999999999999999999"},
      2, {"--stride"});

  // The architecture language and files.
  for (const std::string cmd : {"shape", "receptive-field"}) {
    // shape needs an input size; receptive-field takes one too.
    auto net = [&](std::vector<std::string> a) {
      a.insert(a.begin(), cmd);
      a.insert(a.end(), {"-i", "8x8x1"});
      return a;
    };
    add(cmd + " bad spec", net({"CONV3-4 CONV3- FC-2"}), 2, {"SPEC"}, true);
    add(cmd + " bad --arch-file", net({"--arch-file", "in/bad.arch"}), 1, {"bad.arch"}, true);
    add(cmd + " --arch-file with NUL", net({"--arch-file", "in/nul.arch"}), 1, {"nul.arch"}, true);
    for (const auto& h : hostile_files("empty.txt"))
      add(cmd + " --arch-file " + h.what, net({"--arch-file", h.path}), 1, {h.name}, true);
  }
  add("shape -i nan", {"shape", "CONV3-2", "-i", "nanxnanx1"}, 2, {"-i", "--input"});
  add("shape -i huge", {"shape", "CONV3-2", "-i", "99999999999x8x1"}, 2, {"-i", "--input"});
  const std::vector<std::string> train = {"train", "--data", "in/data", "--epochs",
                                          "1",     "-q",     "-o",      "o/m.ckpt"};
  auto train_with = [&](std::vector<std::string> more) {
    auto a = train;
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  add("train bad --arch", train_with({"--arch", "CONV3-4 CONV3- FC-2"}), 2, {"--arch", "SPEC"},
      true);
  add("train bad --arch-file", train_with({"--arch-file", "in/bad.arch"}), 1, {"bad.arch"}, true);
  for (const auto& h : hostile_files("empty.txt"))
    add("train --arch-file " + h.what, train_with({"--arch-file", h.path}), 1, {h.name}, true);
  add("train --augment crop:nan", train_with({"--arch", "FLATTEN FC-2", "--augment", "crop:nan"}),
      2, {"--augment"});

  // Data sets and checkpoints.  A data set is a name or a directory: any
  // other path is a wrong command line (exit 2), a directory that holds no
  // data set failed work (exit 1).
  for (const auto& h : hostile_files("empty.txt")) {
    const int status = h.what == "directory" ? 1 : 2;
    auto a = train_with({"--arch", "FLATTEN FC-2"});
    a[2] = h.path;
    add("train --data " + h.what, a, status, {h.name});
    add("eval --data " + h.what, {"eval", "-m", "in/good.ckpt", "--data", h.path}, status,
        {h.name});
  }
  std::vector<Hostile> checkpoints = {{"truncated", "in/cut.ckpt", "cut.ckpt"},
                                      {"flipped bit", "in/flipped.ckpt", "flipped.ckpt"},
                                      {"image", "in/g.png", "g.png"}};
  for (const auto& h : hostile_files("empty.txt")) checkpoints.push_back(h);
  for (const auto& h : checkpoints) {
    add("eval -m " + h.what, {"eval", "-m", h.path, "--data", "in/data"}, 1, {h.name});
    add("predict -m " + h.what, {"predict", "-m", h.path, "in/data/a/0.png"}, 1, {h.name});
    add("train --resume " + h.what, {"train", "--resume", h.path, "-q", "-o", "o/m.ckpt"}, 1,
        {h.name});
  }

  // Outputs into a missing directory, and two outputs naming one file.
  const std::string nodir = "o/no/such/";
  add("convolve -o missing dir", {"convolve", "in/m.txt", "[1]", "-o", nodir + "c.txt"}, 1,
      {"c.txt"});
  for (const char* cmd : {"blur", "edge", "median", "sharpen"})
    add(std::string(cmd) + " -o missing dir", {cmd, "in/g.png", "-o", nodir + "i.png"}, 1,
        {"i.png"});
  add("signal -o missing dir", {"signal", "rect", "--length", "3", "-o", nodir + "s.txt"}, 1,
      {"s.txt"});
  add("plot -o missing dir", {"plot", "in/s.txt", "-o", nodir + "p.png"}, 1, {"p.png"});
  add("sample -o missing dir", {"sample", "uniform", "--count", "3", "-o", nodir + "x.txt"}, 1,
      {"x.txt"});
  add("normalize -o missing dir", {"normalize", "in/t.txt", "-q", "-o", nodir + "n.txt"}, 1,
      {"n.txt"});
  add("normalize --plot missing dir",
      {"normalize", "in/t.txt", "-q", "-o", "o/n.txt", "--plot", nodir + "n.png"}, 1, {"n.png"});
  for (const auto& [flag, name] : std::vector<std::pair<std::string, std::string>>{
           {"-o", "t.ckpt"}, {"--log", "t.csv"}, {"--plot", "t.png"}}) {
    auto a = train_with({"--arch", "FLATTEN FC-2"});
    a = with_option(a, flag, nodir + name);
    add("train " + flag + " missing dir", a, 1, {name});
  }
  add("train -o and --log same file", train_with({"--arch", "FLATTEN FC-2", "--log", "o/m.ckpt"}),
      2, {"m.ckpt"});
  add("train -o and --plot same file",
      train_with({"--arch", "FLATTEN FC-2", "--plot", "o/./m.ckpt"}), 2, {"m.ckpt"});
  add("normalize -o and --plot same file",
      {"normalize", "in/t.txt", "-q", "-o", "o/x.png", "--plot", "o/x.png"}, 2, {"x.png"});

  // Numeric options that take lists or literals (TEXT in --help).
  for (const char* bad : {"nan", "inf", "1e999"}) {
    const std::string v = bad;
    for (const char* opt : {"--gamma", "--beta"})
      add(std::string("normalize ") + opt + " " + v,
          {"normalize", "in/t.txt", "-q", "-o", "o/out.txt", opt, "1," + v}, 2, {opt});
    for (const char* opt : {"--mean", "--var", "--std"})
      add(std::string("sample ") + opt + " " + v,
          {"sample", "gaussian", "--count", "3", "-o", "o/out.txt", opt, v}, 2, {opt});
    for (const char* opt : {"--low", "--high"})
      add(std::string("sample ") + opt + " " + v,
          {"sample", "uniform", "--count", "3", "-o", "o/out.txt", opt, v}, 2, {opt});
    add("sample --cov " + v,
        {"sample", "gaussian", "--count", "3", "-o", "o/out.txt", "--cov", "[1 0; 0 " + v + "]"}, 2,
        {"--cov"});
  }

  // Every numeric option found in --help: nan, infinities, a number beyond
  // double, and for whole numbers one beyond 64 bits.  (A huge finite value of
  // a FLOAT option without a stated range, e.g. --offset 1e23, is legal.)
  for (const auto& [cmd, help] : helps) {
    const auto base = base_runs().find(cmd);
    if (base == base_runs().end()) continue;  // reported as a command without a base run
    for (const auto& [opt, type] : numeric_options_in_help(help)) {
      std::vector<std::string> bad = {"nan", "inf", "-inf", "1e999"};
      if (type != "FLOAT") bad.push_back("99999999999999999999999");
      for (const auto& v : bad)
        add(cmd + " " + opt + " " + v, with_option(base->second, opt, v), 2, {opt});
    }
  }

  // Commands that take --threads run on one thread.
  for (auto& row : rows) {
    const auto& help = helps.at(row.args[0]);
    if (help.find("--threads") != std::string::npos &&
        std::find(row.args.begin(), row.args.end(), "--threads") == row.args.end()) {
      row.args.push_back("--threads");
      row.args.push_back("1");
    }
  }
  return rows;
}

// run_convkit under timeout(1): a regression that reads without end fails
// (exit 124 or 137) instead of hanging the suite.
RunResult run_bounded(const std::vector<std::string>& args, const std::string& cwd) {
  const char* old = std::getenv("CONVKIT_TEST_WRAPPER");
  const std::string saved = old ? old : "";
  const std::string wrapper = "/usr/bin/timeout -k 5 60 " + saved;
  setenv("CONVKIT_TEST_WRAPPER", wrapper.c_str(), 1);
  RunResult r = run_convkit(args, "", cwd);
  if (old)
    setenv("CONVKIT_TEST_WRAPPER", saved.c_str(), 1);
  else
    unsetenv("CONVKIT_TEST_WRAPPER");
  return r;
}

std::string joined(const std::vector<std::string>& args) {
  std::string s = "convkit";
  for (const auto& a : args) s += " '" + a + "'";
  return s;
}

}  // namespace

TEST_CASE(
    "[sweep] every command refuses every hostile input with one printable line and no output") {
  const std::string dir = temp_dir();
  make_inputs(dir);
  const auto commands = commands_from_help();
  REQUIRE(commands.size() >= 15);
  std::map<std::string, std::string> helps;
  for (const auto& cmd : commands) {
    const auto h = run_convkit({cmd, "--help"});
    REQUIRE_MESSAGE(h.status == 0, cmd);
    helps[cmd] = h.out;
  }
  const auto rows = build_table(helps);

  // Every command has a base run and rows; every id is unique.
  std::map<std::string, int> per_command;
  std::set<std::string> ids;
  for (const auto& row : rows) {
    ++per_command[row.args[0]];
    CHECK_MESSAGE(ids.insert(row.id).second, "duplicate row id: " << row.id);
  }
  for (const auto& cmd : commands) {
    CHECK_MESSAGE(base_runs().count(cmd) == 1, "no base run for command " << cmd);
    CHECK_MESSAGE(per_command[cmd] >= 3, "command " << cmd << " has too few rows in the sweep");
  }

  // The base runs themselves succeed, so each row's refusal is its input's.
  for (const auto& [cmd, args] : base_runs()) {
    auto a = args;
    if (helps[cmd].find("--threads") != std::string::npos) a.insert(a.end(), {"--threads", "1"});
    const auto r = run_bounded(a, dir);
    CHECK_MESSAGE(r.status == 0, joined(a) << "\n" << r.err);
    fs::remove_all(dir + "/o");
    fs::create_directories(dir + "/o");
  }

  const auto before = snapshot(dir);
  int run = 0;
  for (const auto& row : rows) {
    ++run;
    const auto r = run_bounded(row.args, dir);
    INFO(row.id << ": " << joined(row.args) << "\nstatus " << r.status << ", stderr:\n" << r.err);
    CHECK(r.status == row.status);
    CHECK_MESSAGE(stderr_problem(r.err, row.arch).empty(), stderr_problem(r.err, row.arch));
    const std::string first_line = r.err.substr(0, r.err.find('\n'));
    CHECK(std::any_of(row.names.begin(), row.names.end(), [&](const std::string& n) {
      return first_line.find(n) != std::string::npos;
    }));
    CHECK(r.out.empty());
    const auto after = snapshot(dir);
    std::vector<std::string> left;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(left));
    CHECK_MESSAGE(left.empty(), "left behind: " << (left.empty() ? "" : left.front()));
    for (const auto& p : left) fs::remove_all(fs::path(dir) / p);
  }
  MESSAGE(run << " rows run");
}
