// convkit/train/checkpoint.hpp — everything needed to resume or use a model.
//
// File layout (all integers little-endian):
//   "CVKCKPT\0"            8-byte magic
//   u32 version            kCheckpointVersion
//   u64 payload_size       bytes that follow, up to the checksum
//   payload                the sections below, in order
//   u32 crc32              zlib crc32 of the payload
// Payload: strings are u32 length + bytes; vectors are u32 count + items.
//   arch (string), input C H W (3 x i32), epoch (i32), class names,
//   normalization mean / stddev (f32 vectors), optimizer name (string),
//   optimizer scalars (count, then name + f64 each), tensors, optimizer
//   tensors (count, then name + rank + i64 dims + f32 data each), RNG state
//   (4 x u64), metrics history (count, then 8 x f64 each), settings
//   (count, then key + value strings).
// Loading checks the magic, version, size and checksum first, and every
// count against the bytes left before allocating anything.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convkit {

inline constexpr std::uint32_t kCheckpointVersion = 1;

struct NamedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

/// One finished epoch.
struct EpochMetrics {
  int epoch = 0;  ///< 1-based
  double train_loss = 0, train_acc = 0, val_loss = 0, val_acc = 0;
  double lr = 0, seconds = 0, images_per_second = 0;
};

struct Checkpoint {
  std::string arch;  ///< the architecture SPEC
  int in_channels = 0, in_height = 0, in_width = 0;
  int epoch = 0;  ///< epochs completed
  std::vector<std::string> class_names;
  std::vector<float> norm_mean, norm_std;
  std::string optimizer;                                          ///< "sgd", "adam", "adamw"
  std::vector<std::pair<std::string, double>> optimizer_scalars;  ///< step count etc.
  std::vector<NamedTensor> tensors;                               ///< model parameters and buffers
  std::vector<NamedTensor> optimizer_tensors;                     ///< momentum / moment estimates
  std::array<std::uint64_t, 4> rng_state{};
  std::vector<EpochMetrics> history;
  std::vector<std::pair<std::string, std::string>> settings;  ///< training options

  const NamedTensor* find(const std::string& name) const;
  std::string setting(const std::string& key, const std::string& fallback = "") const;
};

std::string serialize_checkpoint(const Checkpoint& c);
/// `source` names the file in error messages.
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& source);

/// Write atomically (temporary file + rename): a crash or Ctrl-C leaves the
/// previous checkpoint intact.
void save_checkpoint(const std::string& path, const Checkpoint& c);
/// Read and verify; throws convkit::Error naming the file on a missing,
/// truncated, corrupt or foreign file.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace convkit
