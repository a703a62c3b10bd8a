// The architecture language: text -> Arch.  Grammar and limits: convkit/arch.hpp.
//
// A hand-written recursive-descent parser over the bytes of the text.  Every
// error points at a byte range, which is turned into a line, a column and a
// width in characters (UTF-8 code points), so the command line can draw a
// caret under the offending token.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "convkit/arch.hpp"
#include "convkit/error.hpp"

namespace convkit {

namespace {

constexpr std::int64_t kMaxKernel = 65535;  // also stride and padding
constexpr std::int64_t kMaxUnits = 1000000;
constexpr std::int64_t kMaxRepeat = 10000;
constexpr std::int64_t kMaxLayers = 100000;
constexpr int kMaxDepth = 32;

const char* const kLayerList =
    "CONVk-F, POOLk, MAXPOOLk, AVGPOOLk, FC-N, FLATTEN, GAP, ReLU, BN, DROPOUTp, SOFTMAX";

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

std::string upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  Arch run() {
    Arch a;
    a.layers = sequence(0, std::string_view::npos);
    if (a.layers.empty())
      fail(0, 0,
           "empty architecture: expected at least one layer (" + std::string(kLayerList) + ")");
    return a;
  }

 private:
  std::string_view text_;
  std::string_view name_;
  std::size_t pos_ = 0;

  // ---- positions and errors -------------------------------------------------

  [[noreturn]] void fail(std::size_t at, std::size_t len, const std::string& what) const {
    at = std::min(at, text_.size());
    std::size_t nl = text_.substr(0, at).rfind('\n');
    std::size_t line_start = nl == std::string_view::npos ? 0 : nl + 1;
    std::size_t line_end = text_.find('\n', at);
    if (line_end == std::string_view::npos) line_end = text_.size();
    int line = 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + line_start, '\n'));
    int column = 1;
    for (std::size_t i = line_start; i < at; ++i)
      if (!is_continuation(static_cast<unsigned char>(text_[i]))) ++column;
    int width = 0;
    for (std::size_t i = at; i < std::min(at + len, line_end); ++i)
      if (!is_continuation(static_cast<unsigned char>(text_[i]))) ++width;
    SourceMark mark;
    mark.line = std::string(text_.substr(line_start, line_end - line_start));
    if (!mark.line.empty() && mark.line.back() == '\r') mark.line.pop_back();
    mark.column = column;
    mark.width = std::max(width, 1);
    clip(mark);
    bool multi_line = text_.find('\n') != std::string_view::npos;
    std::string where =
        multi_line ? std::string(name_) + ":" + std::to_string(line) + ":" + std::to_string(column)
                   : std::string(name_) + ", column " + std::to_string(column);
    throw ParseError(where + ": " + what, std::move(mark));
  }

  // Show at most ~100 characters of a long line, around the marked token.
  static void clip(SourceMark& m) {
    constexpr int kShown = 100, kBefore = 40;
    std::vector<std::size_t> starts;  // byte offset of each character
    for (std::size_t i = 0; i < m.line.size(); ++i)
      if (!is_continuation(static_cast<unsigned char>(m.line[i]))) starts.push_back(i);
    const int n = static_cast<int>(starts.size());
    if (n <= kShown + 20) return;
    const int first = std::clamp(m.column - 1 - kBefore, 0, n - kShown);
    const int last = first + kShown;  // one past
    std::string shown = first > 0 ? "..." : "";
    const std::size_t b0 = starts[static_cast<std::size_t>(first)];
    const std::size_t b1 = last < n ? starts[static_cast<std::size_t>(last)] : m.line.size();
    shown += m.line.substr(b0, b1 - b0);
    if (last < n) shown += "...";
    m.column = m.column - first + (first > 0 ? 3 : 0);
    m.width = std::max(1, std::min(m.width, kShown - (m.column - 1 - (first > 0 ? 3 : 0))));
    m.line = std::move(shown);
  }

  // Line and column of byte `at`.  Tokens arrive in increasing order, so this
  // walks forward from the previous token (linear in the text, not quadratic).
  void locate(std::size_t at, LayerSpec& l) {
    if (at < loc_pos_) loc_pos_ = 0, loc_line_ = 1, loc_column_ = 1;
    for (; loc_pos_ < at; ++loc_pos_) {
      const unsigned char c = static_cast<unsigned char>(text_[loc_pos_]);
      if (c == '\n') {
        ++loc_line_;
        loc_column_ = 1;
      } else if (!is_continuation(c)) {
        ++loc_column_;
      }
    }
    l.line = loc_line_;
    l.column = loc_column_;
  }
  std::size_t loc_pos_ = 0;
  int loc_line_ = 1, loc_column_ = 1;

  // ---- lexing ---------------------------------------------------------------

  bool at_arrow(std::size_t p) const {
    if (text_.substr(p, 2) == "->") return true;
    return text_.substr(p, 3) == "\xE2\x86\x92";  // U+2192 RIGHTWARDS ARROW
  }

  // Spaces, commas, arrows and comments (`#` to the end of the line).
  void skip_separators() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (text_.substr(pos_, 2) == "->") {
        pos_ += 2;
      } else if (text_.substr(pos_, 3) == "\xE2\x86\x92") {
        pos_ += 3;
      } else {
        break;
      }
    }
  }

  bool ends_word(std::size_t p) const {
    if (p >= text_.size()) return true;
    char c = text_[p];
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '(' || c == ')' ||
           c == '#' || c == '\f' || c == '\v' || at_arrow(p);
  }

  // ---- grammar --------------------------------------------------------------

  // Layers up to the end (depth 0) or up to the `)` closing the group opened at `open`.
  std::vector<LayerSpec> sequence(int depth, std::size_t open) {
    std::vector<LayerSpec> out;
    for (;;) {
      skip_separators();
      if (pos_ >= text_.size()) {
        if (depth > 0) fail(open, 1, "this '(' is never closed: expected ')' and a repeat count");
        return out;
      }
      char c = text_[pos_];
      if (c == ')') {
        if (depth == 0) fail(pos_, 1, "unmatched ')'");
        return out;
      }
      if (c == '(') {
        std::size_t at = pos_;
        if (depth + 1 > kMaxDepth)
          fail(at, 1, "groups are nested too deeply (at most " + std::to_string(kMaxDepth) + ")");
        ++pos_;
        std::vector<LayerSpec> inner = sequence(depth + 1, at);
        std::size_t close = pos_;  // at ')'
        ++pos_;
        if (inner.empty()) fail(at, close - at + 1, "empty group: expected layers inside '( )'");
        std::int64_t count = repeat_count(close);
        std::int64_t total =
            static_cast<std::int64_t>(out.size()) + static_cast<std::int64_t>(inner.size()) * count;
        if (total > kMaxLayers)
          fail(at, pos_ - at,
               "the repeat makes " + std::to_string(total) + " layers; at most " +
                   std::to_string(kMaxLayers) + " are allowed");
        for (std::int64_t i = 0; i < count; ++i) out.insert(out.end(), inner.begin(), inner.end());
        continue;
      }
      std::size_t start = pos_;
      while (!ends_word(pos_)) ++pos_;
      out.push_back(layer(start, pos_ - start));
      if (static_cast<std::int64_t>(out.size()) > kMaxLayers)
        fail(start, pos_ - start, "too many layers (at most " + std::to_string(kMaxLayers) + ")");
    }
  }

  // After ')': optional spaces, then x / X / × / *, then the count.
  std::int64_t repeat_count(std::size_t close) {
    std::size_t p = pos_;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    std::size_t mark_len = 0;
    if (p < text_.size() && (text_[p] == 'x' || text_[p] == 'X' || text_[p] == '*'))
      mark_len = 1;
    else if (text_.substr(p, 2) == "\xC3\x97")  // U+00D7 MULTIPLICATION SIGN
      mark_len = 2;
    if (mark_len == 0) fail(close, 1, "expected a repeat count after ')', e.g. (CONV3-64 ReLU)x2");
    std::size_t num = p + mark_len;
    while (num < text_.size() && (text_[num] == ' ' || text_[num] == '\t')) ++num;
    std::size_t end = num;
    while (end < text_.size() && std::isdigit(static_cast<unsigned char>(text_[end]))) ++end;
    if (end == num) fail(p, num - p + 1, "expected a repeat count after ')', e.g. )x2");
    if (!ends_word(end))
      fail(end, 1, "unexpected character after the repeat count (separate layers by spaces)");
    std::int64_t n = number(num, end - num, kMaxRepeat, "repeat count");
    if (n < 1) fail(num, end - num, "the repeat count must be at least 1");
    pos_ = end;
    return n;
  }

  // Decimal digits at [at, at+len) -> value, or an error if above `max`.
  std::int64_t number(std::size_t at, std::size_t len, std::int64_t max, const char* what) const {
    std::int64_t v = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      v = v * 10 + (text_[i] - '0');
      if (v > max)
        fail(at, len,
             std::string(what) + " " + std::string(text_.substr(at, len)) +
                 " is too large (at most " + std::to_string(max) + ")");
    }
    return v;
  }

  std::size_t digits_end(std::size_t p, std::size_t end) const {
    while (p < end && std::isdigit(static_cast<unsigned char>(text_[p]))) ++p;
    return p;
  }

  // One layer token at [at, at+len).
  LayerSpec layer(std::size_t at, std::size_t len) {
    std::string_view tok = text_.substr(at, len);
    std::size_t slash = tok.find('/');
    std::size_t head_len = slash == std::string_view::npos ? len : slash;
    std::string head = upper(tok.substr(0, head_len));
    std::size_t head_end = at + head_len;
    LayerSpec l;
    l.text = std::string(tok);
    locate(at, l);

    struct Name {
      const char* word;
      LayerKind kind;
    };
    static const Name names[] = {
        {"MAXPOOL", LayerKind::maxpool},
        {"AVGPOOL", LayerKind::avgpool},
        {"POOL", LayerKind::maxpool},
        {"CONV", LayerKind::conv},
        {"FLATTEN", LayerKind::flatten},
        {"FC", LayerKind::fc},
        {"GAP", LayerKind::gap},
        {"RELU", LayerKind::relu},
        {"BATCHNORM", LayerKind::batchnorm},
        {"BN", LayerKind::batchnorm},
        {"DROPOUT", LayerKind::dropout},
        {"SOFTMAX", LayerKind::softmax},
    };
    const Name* found = nullptr;
    for (const auto& n : names)
      if (head.rfind(n.word, 0) == 0) {
        found = &n;
        break;
      }
    if (!found) {
      if (head_len == 0)
        fail(at, len, "expected a layer name before '/' (" + std::string(kLayerList) + ")");
      fail(at, head_len,
           "unknown layer '" + std::string(tok.substr(0, head_len)) + "' (expected " + kLayerList +
               ")");
    }
    l.kind = found->kind;
    std::size_t p = at + std::string_view(found->word).size();  // after the name
    const std::string word = found->word;

    auto rest_must_be_empty = [&](const std::string& expected) {
      if (p < head_end)
        fail(p, head_end - p,
             "unexpected '" + std::string(text_.substr(p, head_end - p)) + "' after " + word +
                 " (" + expected + ")");
    };

    switch (l.kind) {
      case LayerKind::conv: {
        std::size_t e = digits_end(p, head_end);
        if (e == p)
          fail(p == head_end ? at : p, p == head_end ? head_len : head_end - p,
               "expected the kernel size after CONV, e.g. CONV3-10 or CONV3");
        l.kernel = static_cast<int>(number(p, e - p, kMaxKernel, "kernel size"));
        if (l.kernel < 1) fail(p, e - p, "the kernel size must be at least 1");
        p = e;
        if (p < head_end && text_[p] == '-') {
          std::size_t f = digits_end(p + 1, head_end);
          if (f == p + 1)
            fail(p, std::max<std::size_t>(head_end - p, 1),
                 "expected the number of filters after '-', e.g. CONV3-10");
          l.filters = static_cast<int>(number(p + 1, f - p - 1, kMaxUnits, "filter count"));
          if (l.filters < 1) fail(p + 1, f - p - 1, "the number of filters must be at least 1");
          p = f;
        }
        rest_must_be_empty("expected CONVk-F, e.g. CONV3-10, then options like /s2 /p0");
        l.stride = 1;
        l.pad = l.kernel / 2;
        break;
      }
      case LayerKind::maxpool:
      case LayerKind::avgpool: {
        std::size_t e = digits_end(p, head_end);
        if (e == p)
          fail(p == head_end ? at : p, p == head_end ? head_len : head_end - p,
               "expected the window size after " + word + ", e.g. " + word + "2");
        l.kernel = static_cast<int>(number(p, e - p, kMaxKernel, "window size"));
        if (l.kernel < 1) fail(p, e - p, "the window size must be at least 1");
        p = e;
        rest_must_be_empty("expected " + word + "k, e.g. " + word + "2 or " + word + "3/s2");
        l.stride = l.kernel;
        l.pad = 0;
        break;
      }
      case LayerKind::fc: {
        if (p < head_end && text_[p] == '-') ++p;
        std::size_t e = digits_end(p, head_end);
        if (e == p)
          fail(p == head_end ? at : p, p == head_end ? head_len : head_end - p,
               "expected the number of units after FC, e.g. FC-10");
        l.filters = static_cast<int>(number(p, e - p, kMaxUnits, "unit count"));
        if (l.filters < 1) fail(p, e - p, "the number of units must be at least 1");
        p = e;
        rest_must_be_empty("expected FC-N, e.g. FC-10");
        break;
      }
      case LayerKind::dropout: {
        l.rate = 0.5;
        if (p < head_end) {
          if (text_[p] == '-') ++p;
          std::size_t e = digits_end(p, head_end);
          std::size_t num_end = e;
          if (e < head_end && text_[e] == '.') num_end = digits_end(e + 1, head_end);
          if (num_end == p || (num_end == e + 1 && e == p))
            fail(p, std::max<std::size_t>(head_end - p, 1),
                 "expected a dropout probability, e.g. DROPOUT0.5");
          std::string num(text_.substr(p, num_end - p));
          if (num.size() > 32) fail(p, num_end - p, "the dropout probability is too long");
          double r = std::strtod(num.c_str(), nullptr);
          if (!(r >= 0.0 && r < 1.0))
            fail(p, num_end - p, "the dropout probability must be in [0, 1), got " + num);
          l.rate = r;
          p = num_end;
          rest_must_be_empty("expected DROPOUTp, e.g. DROPOUT0.5");
        }
        break;
      }
      default:
        rest_must_be_empty("expected just " + word);
        break;
    }
    if (slash != std::string_view::npos) options(l, at + slash, at + len, word);
    return l;
  }

  // "p0:1" or "p1:0:1:0" at [start, stop) (after the '/'): asymmetric CONV padding.
  void sides(LayerSpec& l, std::size_t start, std::size_t stop, const std::string& word) {
    const std::size_t olen = stop - start;
    const std::string shown = "'/" + std::string(text_.substr(start, olen)) + "'";
    if (l.kind != LayerKind::conv)
      fail(start, olen,
           "asymmetric padding " + shown + " applies to CONV layers only (" + word + " takes /pN)");
    std::vector<int> v;
    for (std::size_t q = start + 1; q <= stop;) {
      const std::size_t e = digits_end(q, stop);
      if (e == q || (e != stop && text_[e] != ':'))
        fail(start, olen,
             "expected /pB:A (before:after) or /pT:B:L:R (top:bottom:left:right) with whole "
             "numbers, got " +
                 shown);
      const std::int64_t n = number(q, e - q, kMaxKernel, "padding");
      if (n >= l.kernel)
        fail(start, olen,
             "padding " + std::to_string(n) + " in " + shown +
                 " must be smaller than the kernel size " + std::to_string(l.kernel) +
                 " (a unit would see only padding)");
      v.push_back(static_cast<int>(n));
      q = e + 1;
    }
    if (v.size() != 2 && v.size() != 4)
      fail(start, olen,
           "expected /pB:A (before:after) or /pT:B:L:R (top:bottom:left:right), got " + shown);
    l.asymmetric = true;
    l.sides = v.size() == 2 ? Padding{v[0], v[1], v[0], v[1]} : Padding{v[0], v[1], v[2], v[3]};
    l.pad = v[0];
  }

  // "/s2/p0/circular" at [p, end).
  void options(LayerSpec& l, std::size_t p, std::size_t end, const std::string& word) {
    bool has_stride = false, has_pad = false, has_border = false;
    const bool windowed =
        l.kind == LayerKind::conv || l.kind == LayerKind::maxpool || l.kind == LayerKind::avgpool;
    while (p < end) {
      std::size_t start = p + 1;  // after '/'
      std::size_t stop = text_.find('/', start);
      if (stop == std::string_view::npos || stop > end) stop = end;
      std::string opt = upper(text_.substr(start, stop - start));
      std::size_t olen = stop - start;
      if (opt.empty())
        fail(p, 1, "expected an option after '/' (/sN stride, /pN padding, /circular, ...)");
      if (!windowed)
        fail(p, stop - p,
             word + " takes no options ('/" + std::string(text_.substr(start, olen)) +
                 "'); options belong to CONV and pooling layers");
      if (opt[0] == 'P' && olen >= 2 && std::isdigit(static_cast<unsigned char>(opt[1])) &&
          opt.find(':') != std::string::npos) {
        if (has_pad) fail(p, stop - p, "the padding is given twice");
        sides(l, start, stop, word);
        has_pad = true;
      } else if ((opt[0] == 'S' || opt[0] == 'P') && olen >= 2 &&
                 std::isdigit(static_cast<unsigned char>(opt[1]))) {
        std::size_t e = digits_end(start + 1, stop);
        if (e != stop)
          fail(start, olen,
               "expected /" + std::string(1, opt[0] == 'S' ? 's' : 'p') +
                   "N with a whole number N, got '/" + std::string(text_.substr(start, olen)) +
                   "'");
        std::int64_t v =
            number(start + 1, stop - start - 1, kMaxKernel, opt[0] == 'S' ? "stride" : "padding");
        if (opt[0] == 'S') {
          if (has_stride) fail(p, stop - p, "the stride is given twice");
          if (v < 1) fail(start, olen, "the stride must be at least 1");
          l.stride = static_cast<int>(v);
          has_stride = true;
        } else {
          if (has_pad) fail(p, stop - p, "the padding is given twice");
          if (l.kind == LayerKind::conv && v >= l.kernel)
            fail(start, olen,
                 "padding " + std::to_string(v) + " must be smaller than the kernel size " +
                     std::to_string(l.kernel) + " (a unit would see only padding)");
          if (l.kind != LayerKind::conv && 2 * v > l.kernel)
            fail(start, olen,
                 "pooling padding " + std::to_string(v) + " must be at most half the window (" +
                     std::to_string(l.kernel / 2) + " for " + word + std::to_string(l.kernel) +
                     ")");
          l.pad = static_cast<int>(v);
          has_pad = true;
        }
      } else {
        static const struct {
          const char* name;
          Border border;
        } borders[] = {{"ZERO", Border::zero},
                       {"CIRCULAR", Border::circular},
                       {"REFLECT", Border::reflect},
                       {"SYMMETRIC", Border::symmetric},
                       {"REPLICATE", Border::replicate}};
        bool ok = false;
        for (const auto& b : borders)
          if (opt == b.name) {
            if (l.kind != LayerKind::conv)
              fail(p, stop - p,
                   "padding modes apply to CONV layers only (pooling pads with nothing)");
            if (has_border) fail(p, stop - p, "the padding mode is given twice");
            l.border = b.border;
            has_border = ok = true;
          }
        if (!ok)
          fail(p, stop - p,
               "unknown option '/" + std::string(text_.substr(start, olen)) +
                   "' (expected /sN stride, /pN padding, or a padding mode: /zero, /circular, "
                   "/reflect, /symmetric, /replicate)");
      }
      p = stop;
    }
    // Defaults that depend on the kernel were set by layer(); an explicit pad
    // was checked above.  The default conv padding floor(K/2) is always < K.
  }
};

}  // namespace

Arch parse_arch(std::string_view text, std::string_view source_name) {
  return Parser(text, source_name).run();
}

std::string read_arch_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the architecture file");
  constexpr std::size_t kMaxBytes = 16u << 20;
  std::string text;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxBytes)
      throw Error(path + ": the architecture file is larger than 16 MiB");
  }
  if (in.bad()) throw Error(path + ": cannot read the architecture file");
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte-order mark
  if (text.find('\0') != std::string::npos)
    throw ParseError(path + ": the architecture file contains NUL bytes (is it a text file?)");
  return text;
}

Arch read_arch_file(const std::string& path) {
  return parse_arch(read_arch_text(path), path);
}

}  // namespace convkit
