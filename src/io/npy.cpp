// NumPy .npy reader and writer (format description: numpy.lib.format).
//
//   magic "\x93NUMPY", major, minor, header length (u16 for 1.x, u32 for 2.x/3.x),
//   a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (H, W), }
//   padded with spaces and a newline, then the raw data.
#include "convkit/io/npy.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/image.hpp"

namespace convkit {

std::int64_t NpyArray::size() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

namespace {

struct Header {
  char order = '<';  // '<' little, '>' big, '|' not applicable
  char kind = 'f';   // f, i, u, b
  int item = 4;      // bytes per element
  bool fortran = false;
  std::vector<std::int64_t> shape;
  std::int64_t origin = 0;  // from a "# convkit origin: N" comment after the dict
};

// convkit keeps a 1-D signal's origin (the sample index of element 0) as a
// Python comment after the header dict: numpy reads the header with
// ast.literal_eval, which skips comments, while an extra dict key would make
// numpy refuse the file.
constexpr std::string_view kOriginComment = "# convkit origin: ";

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw ParseError(name + ": not a valid .npy file: " + what);
}

// A tiny reader for the header's Python dict literal.
struct DictParser {
  std::string_view s;
  std::size_t i = 0;
  const std::string& name;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c))
      bad(name, std::string("header: expected '") + c + "' at offset " + std::to_string(i));
  }
  std::string str() {
    ws();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) bad(name, "header: expected a string");
    char q = s[i++];
    auto end = s.find(q, i);
    if (end == std::string_view::npos) bad(name, "header: unterminated string");
    std::string out(s.substr(i, end - i));
    i = end + 1;
    return out;
  }
  std::int64_t integer() {
    ws();
    std::int64_t v = 0;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10)
        bad(name, "header: dimension too large");
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start) bad(name, "header: expected a dimension");
    if (i < s.size() && s[i] == 'L') ++i;  // Python 2 long
    return v;
  }
};

Header parse_header(std::string_view text, const std::string& name) {
  DictParser p{text, 0, name};
  Header h;
  bool have_descr = false, have_order = false, have_shape = false;
  p.expect('{');
  while (!p.eat('}')) {
    std::string key = p.str();
    p.expect(':');
    if (key == "descr") {
      std::string d = p.str();
      if (d.size() < 3) bad(name, "unsupported dtype '" + d + "'");
      h.order = d[0];
      h.kind = d[1];
      if (h.order != '<' && h.order != '>' && h.order != '|' && h.order != '=')
        bad(name, "unsupported dtype '" + d + "'");
      if (h.order == '=') h.order = '<';
      const std::string size = d.substr(2);
      h.item = size == "1" ? 1 : size == "2" ? 2 : size == "4" ? 4 : size == "8" ? 8 : 0;
      bool ok = (h.kind == 'f' && (h.item == 4 || h.item == 8)) ||
                ((h.kind == 'i' || h.kind == 'u') && h.item != 0) || (h.kind == 'b' && h.item == 1);
      if (!ok)
        bad(name, "unsupported dtype '" + d +
                      "' (supported: float32/64, int8/16/32/64, uint8/16/32/64, bool)");
      have_descr = true;
    } else if (key == "fortran_order") {
      p.ws();
      if (text.substr(p.i, 4) == "True") {
        h.fortran = true;
        p.i += 4;
      } else if (text.substr(p.i, 5) == "False") {
        h.fortran = false;
        p.i += 5;
      } else {
        bad(name, "header: fortran_order is not True or False");
      }
      have_order = true;
    } else if (key == "shape") {
      p.expect('(');
      while (!p.eat(')')) {
        h.shape.push_back(p.integer());
        if (!p.eat(',')) {
          p.expect(')');
          break;
        }
      }
      have_shape = true;
    } else {
      bad(name, "header: unknown key '" + key + "'");
    }
    if (!p.eat(',')) {
      p.expect('}');
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape)
    bad(name, "header lacks one of 'descr', 'fortran_order', 'shape'");
  p.ws();
  if (text.substr(p.i, kOriginComment.size()) == kOriginComment) {
    p.i += kOriginComment.size();
    const bool negative = p.i < text.size() && text[p.i] == '-';
    if (negative) ++p.i;
    const std::int64_t v = p.integer();
    h.origin = negative ? -v : v;
  }
  return h;
}

template <class U>
U load(const unsigned char* p, bool swap) {
  U v;
  std::memcpy(&v, p, sizeof v);
  if (swap) {
    unsigned char b[sizeof v];
    std::memcpy(b, &v, sizeof v);
    for (std::size_t k = 0; k < sizeof v / 2; ++k) std::swap(b[k], b[sizeof v - 1 - k]);
    std::memcpy(&v, b, sizeof v);
  }
  return v;
}

double element(const unsigned char* p, const Header& h, bool swap) {
  switch (h.kind) {
    case 'f':
      return h.item == 4 ? static_cast<double>(load<float>(p, swap)) : load<double>(p, swap);
    case 'b':
      return p[0] ? 1.0 : 0.0;
    case 'u':
      switch (h.item) {
        case 1:
          return p[0];
        case 2:
          return load<std::uint16_t>(p, swap);
        case 4:
          return load<std::uint32_t>(p, swap);
        default:
          return static_cast<double>(load<std::uint64_t>(p, swap));
      }
    default:
      switch (h.item) {
        case 1:
          return static_cast<std::int8_t>(p[0]);
        case 2:
          return load<std::int16_t>(p, swap);
        case 4:
          return load<std::int32_t>(p, swap);
        default:
          return static_cast<double>(load<std::int64_t>(p, swap));
      }
  }
}

struct TypeInfo {
  NpyType t;
  const char* name;
  const char* descr;
  int item;
  double lo, hi;  // integer range (unused for floats)
};
constexpr TypeInfo kTypes[] = {
    {NpyType::f4, "float32", "<f4", 4, 0, 0},
    {NpyType::f8, "float64", "<f8", 8, 0, 0},
    {NpyType::u1, "uint8", "|u1", 1, 0, 255},
    {NpyType::i1, "int8", "|i1", 1, -128, 127},
    {NpyType::u2, "uint16", "<u2", 2, 0, 65535},
    {NpyType::i2, "int16", "<i2", 2, -32768, 32767},
    {NpyType::i4, "int32", "<i4", 4, -2147483648.0, 2147483647.0},
    {NpyType::i8, "int64", "<i8", 8, -9223372036854775808.0, 9223372036854774784.0},
};
const TypeInfo& info(NpyType t) {
  for (const auto& k : kTypes)
    if (k.t == t) return k;
  return kTypes[0];
}

template <class U>
void store(std::string& out, U v) {
  static_assert(std::endian::native == std::endian::little, "big-endian hosts are not supported");
  char b[sizeof v];
  std::memcpy(b, &v, sizeof v);
  out.append(b, sizeof v);
}

}  // namespace

std::string_view to_string(NpyType t) {
  return info(t).name;
}

NpyType parse_npy_type(std::string_view name) {
  for (const auto& k : kTypes)
    if (name == k.name || name == std::string_view(k.descr).substr(1)) return k.t;
  std::string all;
  for (const auto& k : kTypes) all += std::string(all.empty() ? "" : ", ") + k.name;
  throw UsageError("unknown array type '" + std::string(name) + "' (choose from " + all + ")");
}

namespace {

// The header of a .npy file and where its data starts; throws when the
// header is damaged or declares too many elements.
struct Layout {
  Header h;
  std::size_t data_start = 0;
  std::int64_t n = 1;
};

Layout parse_layout(std::string_view bytes, const std::string& name, std::int64_t max_elements) {
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    bad(name, "missing the \\x93NUMPY magic");
  const int major = u[6];
  std::size_t hlen = 0, hstart = 0;
  if (major == 1) {
    hlen = u[8] | (std::size_t(u[9]) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad(name, "truncated header");
    hlen =
        u[8] | (std::size_t(u[9]) << 8) | (std::size_t(u[10]) << 16) | (std::size_t(u[11]) << 24);
    hstart = 12;
  } else {
    bad(name, "unsupported format version " + std::to_string(major));
  }
  if (hlen > bytes.size() - hstart) bad(name, "truncated header");
  Layout out;
  Header& h = out.h;
  h = parse_header(bytes.substr(hstart, hlen), name);
  if (h.shape.empty() || h.shape.size() > 3)
    throw ParseError(name + ": arrays with " + std::to_string(h.shape.size()) +
                     " dimensions are not supported (1 to 3)");
  std::int64_t& n = out.n;
  for (auto d : h.shape) {
    if (d == 0) throw ParseError(name + ": the array is empty (a dimension is 0)");
    if (n > max_elements / d)
      throw ParseError(name + ": the array is too large (more than " +
                       std::to_string(max_elements) + " elements)");
    n *= d;
  }
  out.data_start = hstart + hlen;
  return out;
}

}  // namespace

std::size_t npy_declared_size(std::string_view head, const std::string& name,
                              std::int64_t max_elements) {
  const Layout l = parse_layout(head, name, max_elements);
  return l.data_start + static_cast<std::size_t>(l.n) * l.h.item;
}

namespace {

NpyView view_of(const Layout& l) {
  const Header& h = l.h;
  NpyView v;
  v.shape = h.shape;
  v.dtype = h.kind == 'b' ? "b1" : std::string(1, h.kind) + std::to_string(h.item);
  v.kind = h.kind;
  v.item = h.item;
  v.swap = h.item > 1 && h.order == (std::endian::native == std::endian::little ? '>' : '<');
  v.fortran = h.fortran;
  v.origin = h.origin;
  return v;
}

}  // namespace

NpyView parse_npy_header(std::string_view head, const std::string& name, std::int64_t max_elements,
                         std::size_t* data_start) {
  const Layout l = parse_layout(head, name, max_elements);
  if (data_start) *data_start = l.data_start;
  return view_of(l);
}

NpyView parse_npy_view(std::string_view bytes, const std::string& name, std::int64_t max_elements) {
  const Layout l = parse_layout(bytes, name, max_elements);
  const std::size_t have = bytes.size() - l.data_start;
  const std::size_t need = static_cast<std::size_t>(l.n) * l.h.item;
  if (have != need)
    throw ParseError(name + ": the header promises " + std::to_string(need) + " bytes of data (" +
                     std::to_string(l.n) + " elements) but the file holds " + std::to_string(have));
  NpyView v = view_of(l);
  v.data = reinterpret_cast<const unsigned char*>(bytes.data()) + l.data_start;
  return v;
}

std::int64_t NpyView::size() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

double NpyView::at(std::int64_t i) const {
  Header h;
  h.kind = kind;
  h.item = item;
  std::int64_t f = i;
  if (column_major()) {  // C index (a, b, c) -> Fortran offset a + d0 * (b + d1 * c)
    const std::int64_t d0 = shape[0], d1 = shape[1], d2 = shape.size() == 3 ? shape[2] : 1;
    const std::int64_t c = i % d2, b = (i / d2) % d1, a0 = i / (d1 * d2);
    f = a0 + d0 * (b + d1 * c);
  }
  return element(data + f * item, h, swap);
}

std::unique_ptr<MappedNpy> MappedNpy::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  void* addr = MAP_FAILED;
  std::size_t size = 0;
  char magic[6];
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 10 &&
      ::pread(fd, magic, 6, 0) == 6 && std::memcmp(magic, "\x93NUMPY", 6) == 0) {
    size = static_cast<std::size_t>(st.st_size);
    addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  }
  ::close(fd);
  if (addr == MAP_FAILED) return nullptr;
  return std::unique_ptr<MappedNpy>(new MappedNpy(addr, size));
}

MappedNpy::~MappedNpy() {
  ::munmap(addr_, size_);
}

NpyArray parse_npy(std::string_view bytes, const std::string& name, std::int64_t max_elements) {
  const NpyView v = parse_npy_view(bytes, name, max_elements);
  const std::int64_t n = v.size();
  NpyArray a;
  a.shape = v.shape;
  a.dtype = v.dtype;
  a.origin = v.origin;
  a.data.resize(static_cast<std::size_t>(n));
  const unsigned char* d = v.data;
  // Fast paths for the common native-order types: one tight loop each.
  if (v.native_f4()) {
    for (std::int64_t k = 0; k < n; ++k) {
      float x;
      std::memcpy(&x, d + k * 4, 4);
      a.data[k] = x;
    }
  } else if (v.kind == 'f' && v.item == 8 && !v.swap && !v.column_major()) {
    std::memcpy(a.data.data(), d, static_cast<std::size_t>(n) * 8);
  } else if (v.kind == 'u' && v.item == 1 && !v.column_major()) {
    for (std::int64_t k = 0; k < n; ++k) a.data[k] = d[k];
  } else {
    for (std::int64_t k = 0; k < n; ++k) a.data[k] = v.at(k);
  }
  return a;
}

NpyArray read_npy(const std::string& path, std::int64_t max_elements) {
  // Read as far as the header declares, never more (no text: 0).
  ImageLimits limits;
  limits.max_pixels = max_elements / 4 + 1;
  return parse_npy(read_input_bytes(path, limits, 0), path == "-" ? "<stdin>" : path, max_elements);
}

std::string npy_header(const std::vector<std::int64_t>& shape_in, NpyType type,
                       std::int64_t origin) {
  const TypeInfo& t = info(type);
  std::string shape;
  for (std::size_t k = 0; k < shape_in.size(); ++k)
    shape += (k ? ", " : "") + std::to_string(shape_in[k]);
  if (shape_in.size() == 1) shape += ",";
  std::string header = std::string("{'descr': '") + t.descr +
                       "', 'fortran_order': False, 'shape': (" + shape + "), }";
  if (origin != 0) header += "  " + std::string(kOriginComment) + std::to_string(origin);
  // Pad so that magic + length + header (ending in '\n') is a multiple of 64.
  std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  return out;
}

std::string encode_npy(const NpyArray& a, NpyType type, const std::string& name) {
  if (a.shape.empty() || a.shape.size() > 3)
    throw Error(name + ": only arrays with 1 to 3 dimensions can be written");
  if (a.size() != static_cast<std::int64_t>(a.data.size()))
    throw Error(name + ": array data does not match its shape");
  const TypeInfo& t = info(type);
  if (a.origin != 0 && a.shape.size() != 1)
    throw Error(name + ": only a 1-dimensional array (a signal) has an origin");
  std::string out = npy_header(a.shape, type, a.origin);
  out.reserve(out.size() + a.data.size() * t.item);
  if (std::endian::native == std::endian::little && (type == NpyType::f4 || type == NpyType::f8)) {
    // Fast paths: floats in native (little-endian) order, one tight loop.
    const std::size_t off = out.size();
    out.resize(off + a.data.size() * t.item);
    char* dst = out.data() + off;
    if (type == NpyType::f8) {
      std::memcpy(dst, a.data.data(), a.data.size() * 8);
    } else {
      for (std::size_t k = 0; k < a.data.size(); ++k) {
        const float v = static_cast<float>(a.data[k]);
        std::memcpy(dst + k * 4, &v, 4);
      }
    }
    return out;
  }
  const bool is_int = type != NpyType::f4 && type != NpyType::f8;
  for (std::size_t k = 0; k < a.data.size(); ++k) {
    const double v = a.data[k];
    if (is_int && (!std::isfinite(v) || v < t.lo || v > t.hi || v != std::nearbyint(v)))
      throw Error(name + ": value " + std::to_string(v) + " at element " + std::to_string(k) +
                  " does not fit " + t.name);
    switch (type) {
      case NpyType::f4:
        store(out, static_cast<float>(v));
        break;
      case NpyType::f8:
        store(out, v);
        break;
      case NpyType::u1:
        store(out, static_cast<std::uint8_t>(v));
        break;
      case NpyType::i1:
        store(out, static_cast<std::int8_t>(v));
        break;
      case NpyType::u2:
        store(out, static_cast<std::uint16_t>(v));
        break;
      case NpyType::i2:
        store(out, static_cast<std::int16_t>(v));
        break;
      case NpyType::i4:
        store(out, static_cast<std::int32_t>(v));
        break;
      case NpyType::i8:
        store(out, static_cast<std::int64_t>(v));
        break;
    }
  }
  return out;
}

void write_npy(const std::string& path, const NpyArray& a, NpyType type) {
  write_file_atomic(path, encode_npy(a, type, path == "-" ? "<stdout>" : path));
}

}  // namespace convkit
