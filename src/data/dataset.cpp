// Data sources by name or directory, the synthetic edge set, validation
// splits, normalization and batch assembly (with augmentation).
#include "convkit/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "convkit/error.hpp"
#include "convkit/io/image.hpp"

namespace convkit {

namespace fs = std::filesystem;

const std::vector<std::string> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::string fashion_mnist_dir() {
  if (const char* e = std::getenv("CONVKIT_FASHION_MNIST"); e && *e) return e;
  return "/usr/share/datasets/fashion-mnist";
}

Dataset Dataset::subset(const std::vector<std::size_t>& idx) const {
  Dataset s;
  s.channels = channels;
  s.height = height;
  s.width = width;
  s.class_names = class_names;
  const std::size_t sz = image_size();
  s.images.resize(idx.size() * sz);
  s.labels.resize(idx.size());
  for (std::size_t k = 0; k < idx.size(); ++k) {
    std::copy_n(image(idx[k]), sz, s.images.data() + k * sz);
    s.labels[k] = labels[idx[k]];
  }
  return s;
}

namespace {

// The first file in dir whose name is prefix + one of the suffixes.
std::string find_file(const fs::path& dir, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    std::error_code ec;
    if (fs::is_regular_file(dir / n, ec)) return (dir / n).string();
  }
  return {};
}

std::string find_idx(const fs::path& dir, const std::string& stem, int rank) {
  const std::string r = std::to_string(rank);
  return find_file(dir, {stem + "-idx" + r + "-ubyte.gz", stem + "-idx" + r + "-ubyte",
                         stem + ".idx" + r + "-ubyte.gz", stem + ".idx" + r + "-ubyte"});
}

// Class names from a text file, one per line (blank lines ignored).
std::vector<std::string> read_names(const std::string& path) {
  std::vector<std::string> names;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

bool unnamed(const std::vector<std::string>& names) {
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] != std::to_string(k)) return false;
  return true;
}

void apply_names(Dataset& d, const std::vector<std::string>& names) {
  if (names.size() >= d.class_names.size() && !names.empty()) d.class_names = names;
}

// Pad the class list so that train and test agree on the number of classes.
void unify_classes(DataSource& s) {
  auto& a = s.train.class_names;
  auto& b = s.test.class_names;
  if (a.size() < b.size()) a = b;
  if (b.size() < a.size()) b = a;
}

bool is_image_file(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kExt[] = {".png", ".jpg", ".jpeg", ".bmp", ".tga", ".pgm", ".ppm", ".pnm",
                               ".tif", ".tiff"};
  return std::any_of(std::begin(kExt), std::end(kExt), [&](const char* x) { return e == x; });
}

// The subfolders (dirs) or image files of dir, sorted.  Entries whose name
// starts with a dot are hidden (.git/, .ipynb_checkpoints/, macOS ._x.png)
// and skipped.
std::vector<fs::path> sorted_entries(const fs::path& dir, bool dirs) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::error_code ec;
    if (e.path().filename().string().starts_with(".")) continue;
    if (dirs ? e.is_directory(ec) : (e.is_regular_file(ec) && is_image_file(e.path())))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The classes of a folder set: its subfolders that hold images.  A subfolder
// without images is not a class; it is named in `warnings`.
std::vector<std::string> class_folders(const fs::path& dir, std::vector<std::string>* warnings) {
  std::vector<std::string> names;
  for (const auto& sub : sorted_entries(dir, true)) {
    if (!sorted_entries(sub, false).empty())
      names.push_back(sub.filename().string());
    else if (warnings)
      warnings->push_back(sub.string() + " holds no images: not used as a class");
  }
  return names;
}

bool has_class_folders(const fs::path& dir) {
  return !class_folders(dir, nullptr).empty();
}

// One subfolder per class, in the order of `names`.
Dataset read_image_folder(const fs::path& dir, const std::vector<std::string>& names,
                          const DataLimits& limits) {
  if (names.empty()) throw Error(dir.string() + ": no class subfolders with images");
  Dataset d;
  d.class_names = names;
  std::int64_t bytes = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const fs::path sub = dir / names[k];
    std::error_code ec;
    if (!fs::is_directory(sub, ec)) continue;
    for (const auto& file : sorted_entries(sub, false)) {
      Image img = read_image(file.string());
      const int colour = img.has_alpha() ? img.channels - 1 : img.channels;
      if (d.images.empty() && d.labels.empty()) {
        d.channels = colour;
        d.height = img.height;
        d.width = img.width;
      } else if (colour != d.channels || img.height != d.height || img.width != d.width) {
        throw ParseError(file.string() + ": image is " + std::to_string(img.width) + "x" +
                         std::to_string(img.height) + "x" + std::to_string(colour) +
                         " but earlier images are " + std::to_string(d.width) + "x" +
                         std::to_string(d.height) + "x" + std::to_string(d.channels) +
                         "; all images of a folder set must have the same size");
      }
      bytes += static_cast<std::int64_t>(d.image_size()) * 4;
      if (bytes > limits.max_bytes * 4)
        throw Error(dir.string() + ": the images exceed the limit of " +
                    std::to_string(limits.max_bytes * 4) + " bytes of pixels");
      // 16-bit and float images are brought to the 0..255 scale of 8-bit ones.
      const float scale = img.bit_depth == 16 ? 255.f / 65535.f : 1.f;
      for (int c = 0; c < colour; ++c) {
        const float* p = img.plane(c);
        for (int i = 0; i < img.width * img.height; ++i) d.images.push_back(p[i] * scale);
      }
      d.labels.push_back(static_cast<std::int32_t>(k));
    }
  }
  if (d.labels.empty()) throw Error(dir.string() + ": no images in the class subfolders");
  return d;
}

DataSource open_idx_dir(const fs::path& dir, bool want_train, bool want_test,
                        const DataLimits& limits) {
  DataSource s;
  const std::string tri = find_idx(dir, "train-images", 3), trl = find_idx(dir, "train-labels", 1);
  std::string tei = find_idx(dir, "t10k-images", 3), tel = find_idx(dir, "t10k-labels", 1);
  if (tei.empty()) tei = find_idx(dir, "test-images", 3);
  if (tel.empty()) tel = find_idx(dir, "test-labels", 1);
  if (want_train) {
    if (tri.empty() || trl.empty())
      throw Error(dir.string() +
                  ": no train-images-idx3-ubyte[.gz] / train-labels-idx1-ubyte[.gz]");
    s.train = read_idx_pair(tri, trl, limits);
  }
  if (want_test) {
    if (tei.empty() || tel.empty())
      throw Error(dir.string() + ": no t10k-images-idx3-ubyte[.gz] / t10k-labels-idx1-ubyte[.gz]");
    s.test = read_idx_pair(tei, tel, limits);
  }
  const std::string names = find_file(dir, {"classes.txt", "labels.txt"});
  if (!names.empty()) {
    const auto n = read_names(names);
    apply_names(s.train, n);
    apply_names(s.test, n);
  }
  unify_classes(s);
  return s;
}

}  // namespace

Dataset make_synthetic_edges(std::size_t count, int size, std::uint64_t seed, float noise) {
  if (size < 2) throw UsageError("synthetic images must be at least 2x2");
  Dataset d;
  d.channels = 1;
  d.height = d.width = size;
  d.class_names = {"horizontal", "vertical", "none"};
  d.images.assign(count * size * size, 0.f);
  d.labels.resize(count);
  DataRng rng(seed);
  for (std::size_t i = 0; i < count; ++i) {
    const int cls = static_cast<int>(i % 3);
    d.labels[i] = cls;
    float* im = d.images.data() + i * size * size;
    // The seed's x1 / x2: a line of ones on zeros (255 on 0, the scale of an
    // 8-bit image); the random circular shift puts it on any row (horizontal)
    // or column (vertical).  Noise: gaussian, standard deviation noise * 255.
    const int at = static_cast<int>(rng.below(static_cast<std::uint64_t>(size)));
    if (cls == 0)
      for (int x = 0; x < size; ++x) im[at * size + x] = 255.f;
    if (cls == 1)
      for (int y = 0; y < size; ++y) im[y * size + at] = 255.f;
    // These normals map u1 = 0 to 1e-300 where normal() uses 1 - u1: kept, so
    // every synthetic set stays the one its seed always gave.
    for (int p = 0; p < size * size; ++p) {
      const double u1 = rng.uniform(), u2 = rng.uniform();
      im[p] += 255.f * noise * static_cast<float>(box_muller(u1 < 1e-300 ? 1e-300 : u1, u2));
    }
  }
  return d;
}

DataSource open_dataset(const std::string& spec, bool want_train, bool want_test,
                        const DataLimits& limits) {
  if (spec == "synthetic-edges") {
    DataSource s;
    s.name = "synthetic-edges";
    if (want_train) s.train = make_synthetic_edges(600, 8, 0x5eed0001);
    if (want_test) s.test = make_synthetic_edges(300, 8, 0x5eed0002);
    return s;
  }
  fs::path dir = spec;
  const bool fashion = spec == "fashion-mnist";
  if (fashion) dir = fashion_mnist_dir();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (fashion)
      throw Error("fashion-mnist: " + dir.string() +
                  " not found (install the Debian package dataset-fashion-mnist, or set "
                  "CONVKIT_FASHION_MNIST to a directory with its IDX files)");
    throw UsageError(spec +
                     (fs::exists(dir, ec) ? ": not a directory, so not a data set; use "
                                            "fashion-mnist, synthetic-edges, or a "
                                          : ": no such data set; use fashion-mnist, "
                                            "synthetic-edges, or a ") +
                     "directory with IDX files, CIFAR-10 batches or one folder per class");
  }
  if (!find_idx(dir, "train-images", 3).empty() || !find_idx(dir, "t10k-images", 3).empty()) {
    DataSource s = open_idx_dir(dir, want_train, want_test, limits);
    if (fashion) {
      s.name = "fashion-mnist";
      apply_names(s.train, kFashionMnistClasses);
      apply_names(s.test, kFashionMnistClasses);
    } else {
      s.name = dir.string();
    }
    return s;
  }
  for (fs::path c : {dir, dir / "cifar-10-batches-bin"}) {
    if (!fs::is_regular_file(c / "data_batch_1.bin", ec) &&
        !fs::is_regular_file(c / "test_batch.bin", ec))
      continue;
    DataSource s;
    s.name = c.string();
    if (want_train) {
      std::vector<std::string> files;
      for (int k = 1; k <= 5; ++k) {
        const fs::path f = c / ("data_batch_" + std::to_string(k) + ".bin");
        if (fs::is_regular_file(f, ec)) files.push_back(f.string());
      }
      if (files.empty()) throw Error(c.string() + ": no data_batch_N.bin files");
      s.train = read_cifar_batches(files, limits);
    }
    if (want_test) {
      const fs::path f = c / "test_batch.bin";
      if (!fs::is_regular_file(f, ec)) throw Error(c.string() + ": no test_batch.bin");
      s.test = read_cifar_batches({f.string()}, limits);
    }
    if (fs::is_regular_file(c / "batches.meta.txt", ec)) {
      const auto n = read_names((c / "batches.meta.txt").string());
      apply_names(s.train, n);
      apply_names(s.test, n);
    }
    return s;
  }
  // An image folder: DIR/train + DIR/test, or DIR itself.
  DataSource s;
  s.name = dir.string();
  if (fs::is_directory(dir / "train", ec) && fs::is_directory(dir / "test", ec) &&
      has_class_folders(dir / "train")) {
    // The training folders name the classes; a test folder may lack some of
    // them, but a test class unknown to training is refused.
    const std::vector<std::string> names = class_folders(dir / "train", &s.warnings);
    for (const auto& t : class_folders(dir / "test", nullptr))
      if (std::find(names.begin(), names.end(), t) == names.end())
        throw Error((dir / "test" / t).string() + ": class '" + t + "' has test images but no " +
                    "training folder " + (dir / "train" / t).string());
    if (want_train) s.train = read_image_folder(dir / "train", names, limits);
    if (want_test) s.test = read_image_folder(dir / "test", names, limits);
    return s;
  }
  const std::vector<std::string> names = class_folders(dir, &s.warnings);
  if (names.empty())
    throw Error(dir.string() +
                ": not a data set: no IDX files, no CIFAR-10 batches and no class "
                "subfolders with images");
  // Without train/ and test/, the whole folder is the one part there is.
  Dataset all = read_image_folder(dir, names, limits);
  s.single_part = true;
  if (want_train) s.train = all;
  if (want_test) s.test = std::move(all);
  return s;
}

std::vector<std::string> relabel_classes(Dataset& d, const std::vector<std::string>& names,
                                         const std::string& data_name,
                                         const std::string& model_name) {
  std::vector<std::int32_t> to(d.class_names.size(), -1);
  if (unnamed(d.class_names)) {
    // Labels without names (IDX without classes.txt, CIFAR without
    // batches.meta.txt) are class numbers.
    for (std::size_t k = 0; k < to.size(); ++k)
      if (k < names.size()) to[k] = static_cast<std::int32_t>(k);
  } else {
    for (std::size_t k = 0; k < to.size(); ++k) {
      const auto it = std::find(names.begin(), names.end(), d.class_names[k]);
      if (it != names.end()) to[k] = static_cast<std::int32_t>(it - names.begin());
    }
  }
  std::vector<bool> present(names.size(), false), used(d.class_names.size(), false);
  for (const auto l : d.labels) used[static_cast<std::size_t>(l)] = true;
  std::string unknown;
  std::size_t n_unknown = 0;
  for (std::size_t k = 0; k < to.size(); ++k) {
    if (!used[k]) continue;
    if (to[k] >= 0) {
      present[static_cast<std::size_t>(to[k])] = true;
    } else {
      unknown += (n_unknown ? ", '" : "'") + d.class_names[k] + "'";
      ++n_unknown;
    }
  }
  if (n_unknown > 0) {
    std::string known;
    for (std::size_t k = 0; k < names.size() && k < 12; ++k)
      known += (k ? ", '" : "'") + names[k] + "'";
    if (names.size() > 12) known += ", ...";
    throw Error(data_name + ": class" + (n_unknown > 1 ? "es " : " ") + unknown + " of the data " +
                (n_unknown > 1 ? "are" : "is") + " not among the " + std::to_string(names.size()) +
                " classes of " + model_name + " (" + known + ")");
  }
  for (auto& l : d.labels) l = to[static_cast<std::size_t>(l)];
  d.class_names = names;
  std::vector<std::string> absent;
  for (std::size_t k = 0; k < names.size(); ++k)
    if (!present[k]) absent.push_back(names[k]);
  return absent;
}

Split split_validation(const Dataset& all, double fraction, std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0))
    throw UsageError("validation fraction must be in [0, 1); got " + std::to_string(fraction));
  const std::size_t n = all.size();
  std::size_t nv = static_cast<std::size_t>(std::floor(fraction * static_cast<double>(n)));
  if (fraction > 0 && nv == 0 && n >= 2) nv = 1;
  std::vector<std::size_t> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = i;
  DataRng rng(seed ^ 0x76616c5f73706c74ULL);  // "val_splt": independent of the training stream
  shuffle(perm, rng);
  std::vector<std::size_t> v(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(nv));
  std::vector<std::size_t> t(perm.begin() + static_cast<std::ptrdiff_t>(nv), perm.end());
  std::sort(v.begin(), v.end());
  std::sort(t.begin(), t.end());
  return {all.subset(t), all.subset(v)};
}

Normalization compute_normalization(const Dataset& d) {
  Normalization nm;
  const std::size_t hw = static_cast<std::size_t>(d.height) * d.width;
  for (int c = 0; c < d.channels; ++c) {
    double s = 0, s2 = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
      const float* p = d.image(i) + c * hw;
      double a = 0, a2 = 0;
      for (std::size_t k = 0; k < hw; ++k) {
        a += p[k];
        a2 += double(p[k]) * p[k];
      }
      s += a;
      s2 += a2;
    }
    const double cnt = static_cast<double>(d.size() * hw);
    const double mean = cnt > 0 ? s / cnt : 0.0;
    const double var = cnt > 0 ? std::max(0.0, s2 / cnt - mean * mean) : 1.0;
    const double sd = std::sqrt(var);
    nm.mean.push_back(static_cast<float>(mean));
    nm.stddev.push_back(sd > 1e-6 ? static_cast<float>(sd) : 1.f);
  }
  return nm;
}

void make_batch(const Dataset& d, const std::size_t* idx, std::size_t n, const Normalization& norm,
                const Augment& aug, DataRng* rng, float* out, std::int32_t* labels) {
  const int C = d.channels, H = d.height, W = d.width;
  const std::size_t hw = static_cast<std::size_t>(H) * W;
  if (norm.mean.size() != static_cast<std::size_t>(C) ||
      norm.stddev.size() != static_cast<std::size_t>(C))
    throw Error("normalization has " + std::to_string(norm.mean.size()) +
                " channels but the data has " + std::to_string(C));
  for (std::size_t k = 0; k < n; ++k) {
    const float* src = d.image(idx[k]);
    float* dst = out + k * d.image_size();
    labels[k] = d.labels[idx[k]];
    int dy = 0, dx = 0;
    bool flip = false;
    if (aug.enabled() && rng) {
      if (aug.crop_pad > 0) {
        const auto span = static_cast<std::uint64_t>(2 * aug.crop_pad + 1);
        dy = static_cast<int>(rng->below(span)) - aug.crop_pad;
        dx = static_cast<int>(rng->below(span)) - aug.crop_pad;
      }
      if (aug.hflip) flip = rng->below(2) == 1;
    }
    for (int c = 0; c < C; ++c) {
      const float m = norm.mean[c], inv = 1.f / norm.stddev[c];
      const float* s = src + c * hw;
      float* o = dst + c * hw;
      for (int y = 0; y < H; ++y) {
        const int sy = y + dy;
        for (int x = 0; x < W; ++x) {
          const int xx = flip ? W - 1 - x : x;
          const int sx = xx + dx;
          // Padding is zero in normalized units (the channel mean).
          o[y * W + x] =
              (sy < 0 || sy >= H || sx < 0 || sx >= W) ? 0.f : (s[sy * W + sx] - m) * inv;
        }
      }
    }
  }
}

}  // namespace convkit
