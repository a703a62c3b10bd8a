// Kernels: inline literals, kernel files and the named filters library.
#include "convkit/filters.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/io/text.hpp"

namespace convkit {

namespace fs = std::filesystem;

namespace {

bool is_dir(const std::string& p) {
  std::error_code ec;
  return !p.empty() && fs::is_directory(p, ec);
}

std::string exe_relative_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return (fs::path(buf).parent_path().parent_path() / "share" / "convkit" / "filters").string();
}

// First comment line of a filter file, without the '#'.
std::string description_of(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t e = text.find('\n', i);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = text.substr(i, e - i);
    std::size_t a = line.find_first_not_of(" \t\r");
    if (a != std::string_view::npos) {
      if (line[a] != '#') return "";
      std::string d(line.substr(a + 1));
      d.erase(0, d.find_first_not_of(" \t"));
      while (!d.empty() && (d.back() == ' ' || d.back() == '\r' || d.back() == '\t')) d.pop_back();
      return d;
    }
    i = e + 1;
  }
  return "";
}

Kernel kernel_from_text(std::string_view text, const std::string& name) {
  Kernel k;
  k.name = name;
  if (classify_text(text, name) == TextShape::indexed_signal) {
    Signal s = parse_signal(text, name);
    k.rows = 1;
    k.cols = static_cast<int>(s.values.size());
    k.data = std::move(s.values);
    k.origin = s.origin;
    k.indexed = true;
  } else {
    Matrix m = parse_matrix(text, name);
    k.rows = m.rows;
    k.cols = m.cols;
    k.data = std::move(m.data);
  }
  k.description = description_of(text);
  return k;
}

// A grey 8- or 16-bit image as a kernel: the taps are its sample values.
Kernel kernel_from_image(std::string_view bytes, const std::string& name, const std::string& path) {
  ImageLimits limits;
  limits.max_pixels = std::min<std::int64_t>(limits.max_pixels, 1 << 24);
  Image img = decode_image(bytes, name, limits, path);
  if (img.channels != 1 || img.is_float())
    throw Error(name + ": a kernel image must be grey (one channel), 8- or 16-bit; this one has " +
                std::to_string(img.channels) + " channel(s) of " + std::to_string(img.bit_depth) +
                "-bit samples");
  Kernel k;
  k.name = path;
  k.rows = img.height;
  k.cols = img.width;
  k.data.assign(img.data.begin(), img.data.end());
  return k;
}

bool has_extension(const std::string& path, const char* ext) {
  std::string e = fs::path(path).extension().string();
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e == ext;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool plain_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  }) && s.find("..") == std::string::npos;
}

}  // namespace

std::vector<std::string> close_names(const std::string& word,
                                     const std::vector<std::string>& candidates) {
  std::vector<std::pair<std::size_t, std::string>> close;
  for (const std::string& n : candidates) {
    std::size_t d = edit_distance(word, n);
    // A misspelt start of a longer name ("sobl" for "sobel-x") counts too.
    std::size_t dp = d;
    for (std::size_t len = word.size() > 0 ? word.size() - 1 : 0; len <= word.size() + 1; ++len)
      dp = std::min(dp, edit_distance(word, n.substr(0, len)));
    if (d <= std::max<std::size_t>(2, word.size() / 3) ||
        (word.size() >= 3 &&
         (dp <= (word.size() >= 6 ? 2u : 1u) || n.find(word) != std::string::npos)))
      close.emplace_back(std::min(d, dp + 1), n);
  }
  std::sort(close.begin(), close.end());
  std::vector<std::string> out;
  for (std::size_t k = 0; k < close.size() && k < 3; ++k) out.push_back(close[k].second);
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::vector<std::string> close = close_names(word, candidates);
  std::string s;
  for (std::size_t k = 0; k < close.size(); ++k) s += (k ? ", '" : "'") + close[k] + "'";
  return s.empty() ? "" : "; did you mean " + s + "?";
}

std::string filters_dir() {
  if (const char* env = std::getenv("CONVKIT_FILTERS_DIR"); env && *env) return env;
#ifdef CONVKIT_BUILD_FILTERS_DIR
  if (is_dir(CONVKIT_BUILD_FILTERS_DIR)) return CONVKIT_BUILD_FILTERS_DIR;
#endif
#ifdef CONVKIT_INSTALL_FILTERS_DIR
  if (is_dir(CONVKIT_INSTALL_FILTERS_DIR)) return CONVKIT_INSTALL_FILTERS_DIR;
#endif
  std::string rel = exe_relative_dir();
  if (is_dir(rel)) return rel;
#ifdef CONVKIT_INSTALL_FILTERS_DIR
  return CONVKIT_INSTALL_FILTERS_DIR;
#else
  return rel;
#endif
}

std::vector<FilterInfo> list_filters() {
  std::vector<FilterInfo> out;
  const std::string dir = filters_dir();
  std::error_code ec;
  if (!is_dir(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".txt") continue;
    const std::string path = e.path().string();
    const std::string text = read_file_bytes(path, 1 << 24);
    Kernel k = kernel_from_text(text, path);
    out.push_back({e.path().stem().string(), k.description, path, k.rows, k.cols});
  }
  std::sort(out.begin(), out.end(),
            [](const FilterInfo& a, const FilterInfo& b) { return a.name < b.name; });
  return out;
}

Kernel parse_vips_matrix(std::string_view text, const std::string& name) {
  if (looks_binary(text))
    throw ParseError(name + ": not a matrix file (binary data, starting '" +
                     quote_for_message(text, 16) + "')");
  // vips separates numbers by spaces, tabs, commas and double quotes.
  std::vector<std::vector<double>> rows;
  std::size_t i = 0;
  int line = 0;
  while (i < text.size()) {
    std::size_t e = text.find('\n', i);
    if (e == std::string_view::npos) e = text.size();
    std::string_view l = text.substr(i, e - i);
    i = e + 1;
    ++line;
    std::vector<double> row;
    std::size_t p = 0;
    while (p < l.size()) {
      if (l[p] == ' ' || l[p] == '\t' || l[p] == ',' || l[p] == '"' || l[p] == '\r') {
        ++p;
        continue;
      }
      std::size_t q = p;
      while (q < l.size() && l[q] != ' ' && l[q] != '\t' && l[q] != ',' && l[q] != '"' &&
             l[q] != '\r')
        ++q;
      const std::string_view tok = l.substr(p, q - p);
      double v = 0;
      const auto r = std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (r.ec != std::errc() || r.ptr != tok.data() + tok.size() || !std::isfinite(v))
        throw ParseError(name + ":" + std::to_string(line) + ":" + std::to_string(p + 1) + ": '" +
                         quote_for_message(tok) + "' is not a finite number");
      row.push_back(v);
      p = q;
    }
    if (rows.empty() && row.empty()) continue;  // blank lines before the header
    rows.push_back(std::move(row));
    if (rows.size() == 1) {
      const auto& h = rows[0];
      auto whole = [](double v) { return v >= 1 && v <= (1 << 16) && v == std::floor(v); };
      if (h.size() < 2 || h.size() > 4 || !whole(h[0]) || !whole(h[1]))
        throw ParseError(name + ":" + std::to_string(line) +
                         ": a matrix file starts with 'width height [scale [offset]]' (whole "
                         "numbers from 1 to 65536, then numbers)");
      if (h.size() > 2 && h[2] == 0)
        throw ParseError(name + ":" + std::to_string(line) + ": scale is 0");
      if (h[0] * h[1] > double(1 << 24))
        throw ParseError(name + ": a " + format_number(h[0]) + " x " + format_number(h[1]) +
                         " matrix is too large for a kernel");
    } else if (rows.back().empty()) {
      rows.pop_back();  // blank lines between and after the rows
    } else {
      const std::size_t width = static_cast<std::size_t>(rows[0][0]);
      const std::size_t height = static_cast<std::size_t>(rows[0][1]);
      if (rows.size() - 1 > height)
        throw ParseError(name + ":" + std::to_string(line) + ": more than the " +
                         std::to_string(height) + " rows the header gives");
      if (rows.back().size() != width)
        throw ParseError(name + ":" + std::to_string(line) + ": row " +
                         std::to_string(rows.size() - 1) + " has " +
                         std::to_string(rows.back().size()) + " values; the header gives width " +
                         std::to_string(width));
    }
  }
  if (rows.empty()) throw ParseError(name + ": empty matrix file");
  const std::vector<double>& h = rows[0];
  Kernel k;
  k.name = name;
  k.cols = static_cast<int>(h[0]);
  k.rows = static_cast<int>(h[1]);
  if (static_cast<int>(rows.size()) - 1 != k.rows)
    throw ParseError(name + ": the header gives " + std::to_string(k.rows) +
                     " rows; the file has " + std::to_string(rows.size() - 1));
  const double scale = h.size() > 2 ? h[2] : 1.0;
  k.offset = h.size() > 3 ? h[3] : 0.0;
  k.data.reserve(static_cast<std::size_t>(k.rows) * k.cols);
  for (std::size_t r = 1; r < rows.size(); ++r)
    for (double v : rows[r]) k.data.push_back(v / scale);
  return k;
}

void normalize_kernel(Kernel& k) {
  double sum = 0, mag = 0;
  for (double v : k.data) sum += v, mag += std::fabs(v);
  // A sum that is 0 up to the rounding of adding the taps: a derivative or
  // other zero-sum kernel, which no division can normalize.
  if (!(std::fabs(sum) > 1e-12 * mag) || !std::isfinite(sum))
    throw UsageError("kernel '" + quote_for_message(k.name) + "': its taps sum to " +
                     format_number(sum) +
                     ", so it cannot be normalized (a zero-sum kernel, such "
                     "as a derivative, keeps its scale)");
  for (double& v : k.data) v /= sum;
}

Kernel load_kernel(const std::string& spec) {
  const std::size_t first = spec.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw UsageError("empty kernel argument");
  if (spec[first] == '[') {
    // An inline literal is part of the command line: its errors are usage
    // errors (exit 2), like an unknown filter name.  It may end in a scale:
    // "[1 2 1; 2 4 2; 1 2 1]/16" or "[...]*0.5".
    const std::string what = "kernel '" + quote_for_message(spec) + "'";
    const std::size_t close = spec.find_last_of(']');
    double factor = 1;
    std::string body = spec;
    if (close != std::string::npos) {
      // The text after ']' without white space around it (one predicate for
      // both ends: a lone "\v" is white space, not a scale).
      std::string_view tail = std::string_view(spec).substr(close + 1);
      auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
      while (!tail.empty() && space(tail.front())) tail.remove_prefix(1);
      while (!tail.empty() && space(tail.back())) tail.remove_suffix(1);
      if (!tail.empty()) {
        const char op = tail[0];
        std::string_view num = tail.substr(1);
        const std::size_t b = num.find_first_not_of(" \t");
        num.remove_prefix(b == std::string_view::npos ? num.size() : b);
        double v = 0;
        const auto r = std::from_chars(num.data(), num.data() + num.size(), v);
        if ((op != '/' && op != '*') || num.empty() || r.ec != std::errc() ||
            r.ptr != num.data() + num.size() || !std::isfinite(v))
          throw UsageError(what +
                           ": after ']' only a scale may follow, /N or *N (e.g. "
                           "\"[1 2 1]/4\"), not '" +
                           quote_for_message(tail) + "'");
        if (op == '/' && v == 0) throw UsageError(what + ": the scale /0 divides by zero");
        factor = op == '/' ? 1 / v : v;
        if (op == '/' && !std::isfinite(factor))
          throw UsageError(what + ": the scale /" + std::string(num) + " is out of range");
      }
      body = spec.substr(0, close + 1);
    }
    try {
      Kernel k = kernel_from_text(body, what);
      k.name = spec;
      if (factor != 1)
        for (double& v : k.data) v *= factor;
      return k;
    } catch (const ParseError& e) {
      throw UsageError(e.what());
    }
  }
  std::error_code ec;
  if (spec == "-" || fs::is_regular_file(spec, ec)) {
    // Bounded: a .npy as far as its header says, text up to 1 GiB (256 MiB from a
    // pipe), binary data refused after its first block.
    const std::string bytes = read_input_bytes(spec, {}, std::size_t(1) << 30);
    const std::string name = spec == "-" ? "<stdin>" : spec;
    if (bytes.rfind("\x93NUMPY", 0) == 0) {
      NpyArray a = parse_npy(bytes, name);
      if (a.shape.size() > 2)
        throw Error(name + ": a kernel has 1 or 2 dimensions, not " +
                    std::to_string(a.shape.size()));
      if (a.shape[0] > (1 << 24) || (a.shape.size() == 2 && a.shape[1] > (1 << 24)))
        throw Error(name + ": kernel is too large");
      Kernel k;
      k.name = spec;
      k.rows = a.shape.size() == 1 ? 1 : static_cast<int>(a.shape[0]);
      k.cols = static_cast<int>(a.shape.size() == 1 ? a.shape[0] : a.shape[1]);
      k.data = std::move(a.data);
      k.origin = a.origin;  // a signal written by convkit keeps its first sample index
      return k;
    }
    if (looks_like_image(bytes)) return kernel_from_image(bytes, name, spec);
    if (has_extension(spec, ".mat")) return parse_vips_matrix(bytes, name);
    return kernel_from_text(bytes, name);
  }
  if (fs::is_directory(spec, ec)) throw UsageError("kernel '" + spec + "' is a directory");
  const std::string dir = filters_dir();
  if (plain_name(spec)) {
    const std::string path = dir + "/" + spec + ".txt";
    if (fs::is_regular_file(path, ec)) {
      Kernel k = kernel_from_text(read_file_bytes(path, 1 << 24), path);
      k.name = spec;
      return k;
    }
  }
  // Nothing fits: suggest close filter names.
  std::string msg = "unknown kernel '" + quote_for_message(spec) +
                    "': not an inline literal like \"[1 2 1]\", not a file, and not a filter in " +
                    dir;
  std::vector<std::string> names;
  if (is_dir(dir)) {
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".txt") names.push_back(e.path().stem().string());
  }
  const std::string hint = did_you_mean(spec, names);
  throw UsageError(msg + (hint.empty() ? " (run 'convkit filters' for the list)" : hint));
}

}  // namespace convkit
