// convkit/io/npy.hpp — NumPy .npy arrays in and out.
//
// Reads format versions 1-3, little- and big-endian, C and Fortran order,
// dtypes float32/float64, int8/16/32/64, uint8/16/32/64 and bool, with 1 to 3
// dimensions.  The data always comes back as doubles in C (row-major) order.
// The header is checked against the file size before anything is allocated,
// so a header that lies about the shape is an error, not a huge allocation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace convkit {

/// Element types we write.
enum class NpyType { f4, f8, u1, i1, u2, i2, i4, i8 };

struct NpyArray {
  std::vector<std::int64_t> shape;  ///< 1 to 3 dimensions, C order
  std::vector<double> data;         ///< product(shape) values, row-major
  std::string dtype;                ///< as read, numpy's short form: "f4", "u1", "i8", ...
  /// A 1-D signal's origin: the sample index n of element 0 (see below); 0 when not stored.
  std::int64_t origin = 0;
  std::int64_t size() const;  ///< product of the shape
};

/// A checked .npy file still in memory: magic, header, shape and data size
/// are validated exactly as parse_npy does, but no element is converted, so a
/// reader can take the elements straight into its own layout.
struct NpyView {
  std::vector<std::int64_t> shape;  ///< 1 to 3 dimensions, C order
  std::string dtype;                ///< numpy's short form, as NpyArray::dtype
  const unsigned char* data = nullptr;
  char kind = 'f';          ///< f, i, u, b
  int item = 4;             ///< bytes per element
  bool swap = false;        ///< stored in the other byte order
  bool fortran = false;     ///< stored with the first index varying fastest
  std::int64_t origin = 0;  ///< as NpyArray::origin
  std::int64_t size() const;
  /// Element i in C (row-major) order, any dtype and layout.
  double at(std::int64_t i) const;
  /// True for float32 in native byte order and C order (the common case).
  bool native_f4() const { return kind == 'f' && item == 4 && !swap && !column_major(); }
  bool column_major() const { return fortran && shape.size() > 1; }
};
NpyView parse_npy_view(std::string_view bytes, const std::string& name,
                       std::int64_t max_elements = std::int64_t(1) << 30);
/// The header alone (at the start of `head`), checked as parse_npy_view checks
/// it; data is null and *data_start (when given) is the data's byte offset.
NpyView parse_npy_header(std::string_view head, const std::string& name, std::int64_t max_elements,
                         std::size_t* data_start);

/// A regular .npy file mapped read-only (pages prefaulted from the page
/// cache): its bytes without copying them into memory of our own.
class MappedNpy {
 public:
  /// The mapping of `path`, or nullptr when it is not a regular, non-empty
  /// file starting with the NPY magic or cannot be mapped (callers then read
  /// it the ordinary way, which reports any error).
  static std::unique_ptr<MappedNpy> open(const std::string& path);
  ~MappedNpy();
  MappedNpy(const MappedNpy&) = delete;
  MappedNpy& operator=(const MappedNpy&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(addr_), size_}; }

 private:
  MappedNpy(void* addr, std::size_t size) : addr_(addr), size_(size) {}
  void* addr_;
  std::size_t size_;
};

/// The size in bytes of the whole file that the header at the start of
/// `head` declares (header plus data), for reading no more than that.
/// Throws ParseError as parse_npy does when the header is damaged, incomplete
/// in `head`, or declares more than max_elements.
std::size_t npy_declared_size(std::string_view head, const std::string& name,
                              std::int64_t max_elements = std::int64_t(1) << 30);

/// Parse .npy bytes; `name` names the file in error messages.
NpyArray parse_npy(std::string_view bytes, const std::string& name,
                   std::int64_t max_elements = std::int64_t(1) << 30);
/// Read a .npy file ("-" = standard input).
NpyArray read_npy(const std::string& path, std::int64_t max_elements = std::int64_t(1) << 30);

/// The header of a version 1.0, little-endian, C-order .npy file of this
/// shape and type (magic to the final newline); the data follows it.  A
/// signal's origin other than 0 is kept as a comment after the header dict,
/// "{...}  # convkit origin: N", which numpy.load skips (it reads the dict
/// with ast.literal_eval) and convkit reads back.
std::string npy_header(const std::vector<std::int64_t>& shape, NpyType type,
                       std::int64_t origin = 0);

/// Encode as .npy (version 1.0, little-endian, C order), with a.origin for a
/// 1-D array.  Integer types refuse values that are not finite or do not fit,
/// naming `name` and the index.
std::string encode_npy(const NpyArray& a, NpyType type, const std::string& name = "array");
/// Encode and write atomically ("-" = standard output).
void write_npy(const std::string& path, const NpyArray& a, NpyType type = NpyType::f8);

/// "float32", "uint8", ... for messages; parse_npy_type accepts those names and
/// numpy's short forms ("f4", "u1").  Throws UsageError listing the choices.
std::string_view to_string(NpyType t);
NpyType parse_npy_type(std::string_view name);

}  // namespace convkit
