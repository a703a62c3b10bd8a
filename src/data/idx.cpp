// IDX files (the MNIST format): a 4-byte magic 00 00 TYPE RANK, RANK
// big-endian int32 dimensions, then the elements row-major.  Read gzip'd or
// plain.  Everything the header promises is checked against the real file
// size before a buffer is allocated, so a lying header costs nothing.
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "convkit/data/dataset.hpp"
#include "convkit/error.hpp"

namespace convkit {

namespace {

std::string type_name(int t) {
  switch (t) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

bool is_gzip(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char m[2] = {0, 0};
  const bool gz = std::fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
  std::fclose(f);
  return gz;
}

// The uncompressed size mod 2^32 from a gzip file's trailer (ISIZE).
std::uint32_t gzip_isize(const std::string& path, std::uintmax_t file_size) {
  if (file_size < 18)
    throw ParseError(path + ": truncated gzip file (" + std::to_string(file_size) + " bytes)");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  unsigned char t[4];
  const bool ok = std::fseek(f, -4, SEEK_END) == 0 && std::fread(t, 1, 4, f) == 4;
  std::fclose(f);
  if (!ok) throw Error(path + ": cannot read the gzip trailer");
  return std::uint32_t(t[0]) | std::uint32_t(t[1]) << 8 | std::uint32_t(t[2]) << 16 |
         std::uint32_t(t[3]) << 24;
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Read exactly n bytes; returns how many were read.  Throws on a zlib error.
std::size_t gz_read_fully(gzFile f, void* buf, std::size_t n, const std::string& path) {
  std::size_t got = 0;
  auto* p = static_cast<unsigned char*>(buf);
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
    const int r = gzread(f, p + got, chunk);
    if (r < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      throw ParseError(path + ": corrupt compressed data near byte " + std::to_string(got) +
                       " of the decompressed stream: " + (msg ? msg : "zlib error"));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

}  // namespace

IdxArray read_idx(const std::string& path, const DataLimits& limits) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(path + ": no such file (expected an IDX file)");
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(path + ": cannot read its size: " + ec.message());
  const bool gz = is_gzip(path);
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  gzbuffer(f.get(), 1 << 17);

  unsigned char magic[4];
  if (gz_read_fully(f.get(), magic, 4, path) != 4)
    throw ParseError(path + ": byte 0: too short for an IDX header");
  if (magic[0] != 0 || magic[1] != 0)
    throw ParseError(path + ": byte 0: not an IDX file (magic must start with 00 00)");
  if (magic[2] != 0x08)
    throw ParseError(path + ": byte 2: IDX element type 0x" +
                     [&] {
                       char b[8];
                       std::snprintf(b, sizeof b, "%02X", magic[2]);
                       return std::string(b);
                     }() +
                     " (" + type_name(magic[2]) + ") is not supported; only unsigned byte (0x08)");
  const int rank = magic[3];
  if (rank < 1 || rank > 4)
    throw ParseError(path + ": byte 3: IDX rank " + std::to_string(rank) +
                     " is not supported (1 to 4)");
  IdxArray a;
  std::int64_t total = 1;
  for (int d = 0; d < rank; ++d) {
    unsigned char b[4];
    if (gz_read_fully(f.get(), b, 4, path) != 4)
      throw ParseError(path + ": byte " + std::to_string(4 + 4 * d) +
                       ": header ends inside dimension " + std::to_string(d + 1));
    const std::uint32_t v = std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 |
                            std::uint32_t(b[2]) << 8 | std::uint32_t(b[3]);
    if (v == 0 || v > 0x7fffffffu)
      throw ParseError(path + ": byte " + std::to_string(4 + 4 * d) + ": dimension " +
                       std::to_string(d + 1) + " is " + std::to_string(v) +
                       " (must be 1 to 2147483647)");
    a.dims.push_back(v);
    if (total > limits.max_bytes / static_cast<std::int64_t>(v))
      throw ParseError(path + ": header promises more than " + std::to_string(limits.max_bytes) +
                       " bytes of data; refusing");
    total *= v;
  }
  const std::int64_t header = 4 + 4 * rank;
  const std::int64_t expected = header + total;
  if (!gz) {
    if (static_cast<std::uintmax_t>(expected) != file_size)
      throw ParseError(path + ": the IDX header promises " + std::to_string(total) +
                       " data bytes (" + std::to_string(expected) + " in all) but the file holds " +
                       std::to_string(file_size) + " bytes" +
                       (file_size < static_cast<std::uintmax_t>(expected) ? " (truncated)" : ""));
  } else {
    // deflate cannot compress better than about 1032:1; a header promising
    // more than that is lying, whatever the trailer says.
    if (static_cast<std::uintmax_t>(expected) / 1032 > file_size)
      throw ParseError(path + ": the IDX header promises " + std::to_string(expected) +
                       " bytes, more than a " + std::to_string(file_size) +
                       "-byte gzip file can hold");
    const std::uint32_t isize = gzip_isize(path, file_size);
    if (isize != static_cast<std::uint32_t>(expected))
      throw ParseError(path + ": the IDX header promises " + std::to_string(expected) +
                       " bytes but the gzip trailer says the file decompresses to " +
                       std::to_string(isize));
  }
  a.data.resize(static_cast<std::size_t>(total));
  const std::size_t got = gz_read_fully(f.get(), a.data.data(), a.data.size(), path);
  if (got != a.data.size())
    throw ParseError(path + ": truncated: byte " + std::to_string(header + got) +
                     ": data ends early (header promises " + std::to_string(expected) + " bytes)");
  unsigned char extra;
  if (gz_read_fully(f.get(), &extra, 1, path) != 0)
    throw ParseError(path + ": byte " + std::to_string(expected) +
                     ": unexpected data after the last element");
  return a;
}

Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      const DataLimits& limits) {
  IdxArray im = read_idx(images_path, limits);
  if (im.dims.size() != 3 && im.dims.size() != 4)
    throw ParseError(images_path +
                     ": IDX image file must have rank 3 (N x rows x cols) or 4 "
                     "(N x rows x cols x channels); it has rank " +
                     std::to_string(im.dims.size()));
  IdxArray lb = read_idx(labels_path, limits);
  if (lb.dims.size() != 1)
    throw ParseError(labels_path + ": IDX label file must have rank 1; it has rank " +
                     std::to_string(lb.dims.size()));
  if (lb.dims[0] != im.dims[0])
    throw ParseError(labels_path + ": holds " + std::to_string(lb.dims[0]) + " labels but " +
                     images_path + " holds " + std::to_string(im.dims[0]) + " images");
  Dataset d;
  const std::int64_t n = im.dims[0];
  d.height = static_cast<int>(im.dims[1]);
  d.width = static_cast<int>(im.dims[2]);
  d.channels = im.dims.size() == 4 ? static_cast<int>(im.dims[3]) : 1;
  if (d.channels > 4)
    throw ParseError(images_path + ": " + std::to_string(d.channels) +
                     " channels per pixel; at most 4 are supported");
  d.images.resize(im.data.size());
  const std::size_t hw = static_cast<std::size_t>(d.height) * d.width;
  const int c = d.channels;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t* src = im.data.data() + i * hw * c;
    float* dst = d.images.data() + i * hw * c;
    // IDX stores channels last; we keep them planar.
    for (std::size_t p = 0; p < hw; ++p)
      for (int ch = 0; ch < c; ++ch) dst[ch * hw + p] = src[p * c + ch];
  }
  int max_label = 0;
  d.labels.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    d.labels[i] = lb.data[i];
    max_label = std::max<int>(max_label, lb.data[i]);
  }
  for (int k = 0; k <= max_label; ++k) d.class_names.push_back(std::to_string(k));
  return d;
}

}  // namespace convkit
