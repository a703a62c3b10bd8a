// The checkpoint file format (see include/convkit/train/checkpoint.hpp).
#include "convkit/train/checkpoint.hpp"

#include <zlib.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"

namespace convkit {

static_assert(std::endian::native == std::endian::little,
              "the checkpoint writer assumes a little-endian machine");

namespace {

constexpr char kMagic[8] = {'C', 'V', 'K', 'C', 'K', 'P', 'T', '\0'};
constexpr std::size_t kHeader = 8 + 4 + 8, kTrailer = 4;
constexpr std::size_t kMaxRank = 8;

class Writer {
 public:
  template <class T>
  void pod(T v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    out_.append(p, sizeof v);
  }
  void str(const std::string& s) {
    pod<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    out_ += s;
  }
  void floats(const std::vector<float>& v) {
    pod<std::uint32_t>(static_cast<std::uint32_t>(v.size()));
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
  void tensors(const std::vector<NamedTensor>& ts) {
    pod<std::uint32_t>(static_cast<std::uint32_t>(ts.size()));
    for (const auto& t : ts) {
      str(t.name);
      pod<std::uint32_t>(static_cast<std::uint32_t>(t.shape.size()));
      std::int64_t n = 1;
      for (auto d : t.shape) {
        pod<std::int64_t>(d);
        n *= d;
      }
      if (n != static_cast<std::int64_t>(t.data.size()))
        throw Error("checkpoint: tensor " + t.name + " has " + std::to_string(t.data.size()) +
                    " values but its shape says " + std::to_string(n));
      out_.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(float));
    }
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view b, std::size_t base, const std::string& src)
      : b_(b), base_(base), src_(src) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw ParseError(src_ + ": byte " + std::to_string(base_ + pos_) + ": " + what);
  }
  void need(std::size_t n, const char* what) {
    if (n > b_.size() - pos_) fail(std::string("checkpoint ends inside ") + what);
  }
  template <class T>
  T pod(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::uint32_t count(std::size_t min_item_bytes, const char* what) {
    const std::size_t at = pos_;
    const auto n = pod<std::uint32_t>(what);
    if (min_item_bytes && n > (b_.size() - pos_) / min_item_bytes) {
      pos_ = at;
      fail(std::string("count ") + std::to_string(n) + " of " + what + " exceeds the file");
    }
    return n;
  }
  std::string str(const char* what) {
    const auto n = count(1, what);
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<float> floats(const char* what) {
    const auto n = count(sizeof(float), what);
    std::vector<float> v(n);
    if (n > 0) std::memcpy(v.data(), b_.data() + pos_, n * sizeof(float));  // data() may be null
    pos_ += n * sizeof(float);
    return v;
  }
  std::vector<NamedTensor> tensors(const char* what) {
    std::vector<NamedTensor> ts(count(4 + 4, what));
    for (auto& t : ts) {
      t.name = str("a tensor name");
      const auto rank = pod<std::uint32_t>("a tensor rank");
      if (rank > kMaxRank) fail("tensor " + t.name + " has rank " + std::to_string(rank));
      std::uint64_t n = 1;
      for (std::uint32_t k = 0; k < rank; ++k) {
        const auto d = pod<std::int64_t>("a tensor shape");
        if (d < 0 || (d > 0 && n > (b_.size() - pos_) / static_cast<std::uint64_t>(d)))
          fail("tensor " + t.name + ": dimension " + std::to_string(d) + " exceeds the file");
        t.shape.push_back(d);
        n *= static_cast<std::uint64_t>(d);
      }
      need(n * sizeof(float), "tensor data");
      t.data.resize(n);
      if (n > 0)  // an empty tensor's data() may be null
        std::memcpy(t.data.data(), b_.data() + pos_, n * sizeof(float));
      pos_ += n * sizeof(float);
    }
    return ts;
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  std::string_view b_;
  std::size_t base_, pos_ = 0;
  const std::string& src_;
};

}  // namespace

const NamedTensor* Checkpoint::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string Checkpoint::setting(const std::string& key, const std::string& fallback) const {
  for (const auto& [k, v] : settings)
    if (k == key) return v;
  return fallback;
}

std::string serialize_checkpoint(const Checkpoint& c) {
  Writer w;
  w.str(c.arch);
  w.pod<std::int32_t>(c.in_channels);
  w.pod<std::int32_t>(c.in_height);
  w.pod<std::int32_t>(c.in_width);
  w.pod<std::int32_t>(c.epoch);
  w.pod<std::uint32_t>(static_cast<std::uint32_t>(c.class_names.size()));
  for (const auto& n : c.class_names) w.str(n);
  w.floats(c.norm_mean);
  w.floats(c.norm_std);
  w.str(c.optimizer);
  w.pod<std::uint32_t>(static_cast<std::uint32_t>(c.optimizer_scalars.size()));
  for (const auto& [k, v] : c.optimizer_scalars) {
    w.str(k);
    w.pod<double>(v);
  }
  w.tensors(c.tensors);
  w.tensors(c.optimizer_tensors);
  for (auto s : c.rng_state) w.pod<std::uint64_t>(s);
  w.pod<std::uint32_t>(static_cast<std::uint32_t>(c.history.size()));
  for (const auto& m : c.history) {
    w.pod<double>(m.epoch);
    for (double v :
         {m.train_loss, m.train_acc, m.val_loss, m.val_acc, m.lr, m.seconds, m.images_per_second})
      w.pod<double>(v);
  }
  w.pod<std::uint32_t>(static_cast<std::uint32_t>(c.settings.size()));
  for (const auto& [k, v] : c.settings) {
    w.str(k);
    w.str(v);
  }
  const std::string& payload = w.bytes();
  std::string out(kMagic, 8);
  Writer h;
  h.pod<std::uint32_t>(kCheckpointVersion);
  h.pod<std::uint64_t>(payload.size());
  out += h.bytes();
  out += payload;
  const auto crc = static_cast<std::uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
  Writer t;
  t.pod<std::uint32_t>(crc);
  out += t.bytes();
  return out;
}

Checkpoint parse_checkpoint(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw ParseError(source + ": not a convkit checkpoint (bad magic number)");
  if (bytes.size() < kHeader + kTrailer)
    throw ParseError(source + ": truncated checkpoint (" + std::to_string(bytes.size()) +
                     " bytes)");
  std::uint32_t version;
  std::uint64_t size;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&size, bytes.data() + 12, 8);
  if (version != kCheckpointVersion)
    throw ParseError(source + ": checkpoint format version " + std::to_string(version) +
                     " is not supported (this convkit reads version " +
                     std::to_string(kCheckpointVersion) + ")");
  if (size != bytes.size() - kHeader - kTrailer)
    throw ParseError(source + ": checkpoint says " + std::to_string(size) +
                     " payload bytes but the file holds " +
                     std::to_string(bytes.size() - kHeader - kTrailer) +
                     (size > bytes.size() - kHeader - kTrailer ? " (truncated)" : ""));
  const std::string_view payload = bytes.substr(kHeader, size);
  std::uint32_t stored;
  std::memcpy(&stored, bytes.data() + kHeader + size, 4);
  const auto crc = static_cast<std::uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
  if (crc != stored) throw ParseError(source + ": checkpoint is corrupt (CRC32 checksum mismatch)");

  Reader r(payload, kHeader, source);
  Checkpoint c;
  c.arch = r.str("the architecture");
  c.in_channels = r.pod<std::int32_t>("the input shape");
  c.in_height = r.pod<std::int32_t>("the input shape");
  c.in_width = r.pod<std::int32_t>("the input shape");
  c.epoch = r.pod<std::int32_t>("the epoch");
  if (c.in_channels < 1 || c.in_height < 1 || c.in_width < 1 || c.epoch < 0)
    r.fail("invalid input shape or epoch");
  c.class_names.resize(r.count(4, "class names"));
  for (auto& n : c.class_names) n = r.str("a class name");
  c.norm_mean = r.floats("the normalization");
  c.norm_std = r.floats("the normalization");
  c.optimizer = r.str("the optimizer name");
  c.optimizer_scalars.resize(r.count(4 + 8, "optimizer scalars"));
  for (auto& [k, v] : c.optimizer_scalars) {
    k = r.str("an optimizer scalar");
    v = r.pod<double>("an optimizer scalar");
  }
  c.tensors = r.tensors("tensors");
  c.optimizer_tensors = r.tensors("optimizer tensors");
  for (auto& s : c.rng_state) s = r.pod<std::uint64_t>("the RNG state");
  c.history.resize(r.count(8 * 8, "the metrics history"));
  for (auto& m : c.history) {
    const double e = r.pod<double>("the metrics history");
    if (!(e >= 0 && e <= 1e9) || e != static_cast<double>(static_cast<int>(e)))
      r.fail("a metrics history entry has an invalid epoch");
    m.epoch = static_cast<int>(e);
    for (double* v : {&m.train_loss, &m.train_acc, &m.val_loss, &m.val_acc, &m.lr, &m.seconds,
                      &m.images_per_second})
      *v = r.pod<double>("the metrics history");
  }
  c.settings.resize(r.count(8, "settings"));
  for (auto& [k, v] : c.settings) {
    k = r.str("a setting");
    v = r.str("a setting");
  }
  if (!r.done()) r.fail("unexpected bytes after the last section");
  return c;
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  write_file_atomic(path, serialize_checkpoint(c), Durability::durable);
}

Checkpoint load_checkpoint(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(st))
    throw Error(path + ": is a directory, not a checkpoint file");
  if (std::filesystem::exists(st) && !std::filesystem::is_regular_file(st))
    throw Error(path + ": not a regular file (a device, pipe or socket), not a checkpoint file");
  if (!std::filesystem::is_regular_file(st)) throw Error(path + ": no such checkpoint file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(path + ": cannot read: " + ec.message());
  if (size > (std::uintmax_t(4) << 30))
    throw ParseError(path + ": " + std::to_string(size) + " bytes is too large for a checkpoint");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) throw Error(path + ": read error");
  return parse_checkpoint(bytes, path);
}

}  // namespace convkit
