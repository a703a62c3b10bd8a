// CIFAR-10 binary batches: records of 3073 bytes, a label byte then the
// 32x32 red, green and blue planes.  File sizes are checked (a whole number
// of records) before anything is allocated.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "convkit/data/dataset.hpp"
#include "convkit/error.hpp"

namespace convkit {

Dataset read_cifar_batches(const std::vector<std::string>& paths, const DataLimits& limits) {
  constexpr std::size_t kPlane = 32 * 32, kRecord = 1 + 3 * kPlane;
  std::vector<std::uintmax_t> sizes;
  std::uintmax_t total_records = 0;
  for (const auto& p : paths) {
    std::error_code ec;
    const auto sz = std::filesystem::file_size(p, ec);
    if (ec) throw Error(p + ": cannot open: " + ec.message());
    if (sz == 0 || sz % kRecord != 0)
      throw ParseError(p + ": " + std::to_string(sz) +
                       " bytes is not a whole number of 3073-byte CIFAR-10 records" +
                       (sz % kRecord ? " (byte " + std::to_string(sz - sz % kRecord) +
                                           " starts a partial record)"
                                     : std::string()));
    sizes.push_back(sz);
    total_records += sz / kRecord;
  }
  // The limit counts decoded bytes (a float per sample) against max_bytes * 4, as image folders do.
  const std::uintmax_t decoded = total_records * 3 * kPlane * sizeof(float);
  const std::uintmax_t limit = static_cast<std::uintmax_t>(limits.max_bytes) * 4;
  if (decoded > limit)
    throw Error("CIFAR-10 batches decode to " + std::to_string(decoded) +
                " bytes of pixels, more than the limit of " + std::to_string(limit));
  Dataset d;
  d.channels = 3;
  d.height = d.width = 32;
  d.images.resize(total_records * 3 * kPlane);
  d.labels.resize(total_records);
  std::vector<unsigned char> rec(kRecord);
  std::size_t i = 0;
  for (std::size_t k = 0; k < paths.size(); ++k) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(paths[k].c_str(), "rb"),
                                                      &std::fclose);
    if (!f) throw Error(paths[k] + ": cannot open: " + std::strerror(errno));
    for (std::uintmax_t r = 0; r < sizes[k] / kRecord; ++r, ++i) {
      if (std::fread(rec.data(), 1, kRecord, f.get()) != kRecord)
        throw Error(paths[k] + ": read error at byte " + std::to_string(r * kRecord));
      if (rec[0] > 9)
        throw ParseError(paths[k] + ": byte " + std::to_string(r * kRecord) + ": label " +
                         std::to_string(rec[0]) + " is not a CIFAR-10 class (0 to 9)");
      d.labels[i] = rec[0];
      float* dst = d.images.data() + i * 3 * kPlane;
      for (std::size_t j = 0; j < 3 * kPlane; ++j) dst[j] = rec[1 + j];
    }
  }
  for (int c = 0; c < 10; ++c) d.class_names.push_back(std::to_string(c));
  return d;
}

}  // namespace convkit
