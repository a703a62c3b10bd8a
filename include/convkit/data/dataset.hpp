// convkit/data/dataset.hpp — labelled image sets for training and evaluation.
//
// Layout (N, C, H, W): image i, channel c, row y, column x is
//   images[((i * C + c) * H + y) * W + x]
// Pixel values keep the source's units (0..255 for 8-bit files); training
// normalizes them per channel (see Normalization) on the way into a batch.
//
// Sources, chosen by open_dataset(spec):
//   fashion-mnist      /usr/share/datasets/fashion-mnist (Debian package
//                      dataset-fashion-mnist), with its ten class names
//   synthetic-edges    built in: 8x8 images with a horizontal line, a vertical
//                      line, or no line, circularly shifted, with noise
//                      (values on the 0..255 scale; 600 train, 300 test)
//   DIR with IDX files train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
//                      t10k-* or test-* (MNIST style; "." or "-" before idx)
//   DIR with CIFAR-10  data_batch_1..5.bin, test_batch.bin, batches.meta.txt
//                      (also DIR/cifar-10-batches-bin/)
//   DIR of folders     one subfolder per class with images; DIR/train and
//                      DIR/test when both exist (the classes are those of
//                      DIR/train; DIR/test may lack some).  Entries whose name
//                      starts with "." are skipped (.git/, ._x.png); a
//                      subfolder without images is not a class (a warning).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "convkit/random.hpp"

namespace convkit {

struct Dataset {
  int channels = 0, height = 0, width = 0;
  std::vector<float> images;             ///< N x C x H x W
  std::vector<std::int32_t> labels;      ///< N, each in [0, num_classes)
  std::vector<std::string> class_names;  ///< one per class (may be "0", "1", ...)

  std::size_t size() const { return labels.size(); }
  std::size_t image_size() const { return static_cast<std::size_t>(channels) * height * width; }
  int num_classes() const { return static_cast<int>(class_names.size()); }
  const float* image(std::size_t i) const { return images.data() + i * image_size(); }
  /// A new set holding the given items, in that order.
  Dataset subset(const std::vector<std::size_t>& idx) const;
};

/// A training source: its training and test parts.  `test` may be empty
/// (an image folder without train/ and test/).
struct DataSource {
  std::string name;  ///< as resolved, e.g. "fashion-mnist (/usr/share/datasets/fashion-mnist)"
  Dataset train, test;
  /// An image folder without train/ and test/: `train` and `test` are the
  /// same images (the whole folder).
  bool single_part = false;
  /// Things the user should hear about (e.g. a class folder without images,
  /// which is skipped).
  std::vector<std::string> warnings;
};

/// Limits checked before allocating.
struct DataLimits {
  std::int64_t max_bytes = std::int64_t(1) << 30;  ///< decoded bytes per file (1 GiB)
};

/// Open a data source by name or directory (see the banner).  Which parts are
/// loaded: want_train / want_test (skip the other to save time and memory).
DataSource open_dataset(const std::string& spec, bool want_train = true, bool want_test = true,
                        const DataLimits& limits = {});

/// Where `fashion-mnist` lives: $CONVKIT_FASHION_MNIST if set, else
/// /usr/share/datasets/fashion-mnist.
std::string fashion_mnist_dir();
extern const std::vector<std::string> kFashionMnistClasses;

/// One IDX file (MNIST format; gzip'd or plain, detected by magic bytes).
/// Element type must be unsigned byte.  The header (magic, type, rank, dims)
/// is checked against the real file size before any buffer is allocated.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};
IdxArray read_idx(const std::string& path, const DataLimits& limits = {});

/// Images (rank 3: N x rows x cols) and labels (rank 1: N) into a Dataset.
Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      const DataLimits& limits = {});

/// CIFAR-10 binary batch files (3073-byte records: label, 1024 R, 1024 G, 1024 B).
Dataset read_cifar_batches(const std::vector<std::string>& paths, const DataLimits& limits = {});

/// The built-in synthetic set (see the banner): `count` images of size x size,
/// classes 0 horizontal edge, 1 vertical edge, 2 no edge, balanced.
Dataset make_synthetic_edges(std::size_t count, int size, std::uint64_t seed, float noise = 0.1f);

/// Give d the class list `names` (a model's), matching its classes by name:
/// label k of d becomes the index of d.class_names[k] in names.  Data whose
/// classes have no names (all named "0", "1", ...: IDX without classes.txt,
/// CIFAR without batches.meta.txt) is matched by class number.  Throws
/// convkit::Error naming data_name, the unknown classes and model_name when d
/// has images of a class not in names.  Returns the classes of names that
/// have no image in d.
std::vector<std::string> relabel_classes(Dataset& d, const std::vector<std::string>& names,
                                         const std::string& data_name,
                                         const std::string& model_name);

/// A seeded split: `fraction` of the items (rounded down, at least 1 when
/// fraction > 0 and the set has at least 2 items) go to validation.
struct Split {
  Dataset train, val;
};
Split split_validation(const Dataset& all, double fraction, std::uint64_t seed);

/// Per-channel mean and standard deviation, applied as (x - mean) / std.
struct Normalization {
  std::vector<float> mean, stddev;
};
Normalization compute_normalization(const Dataset& d);

/// Random crop with zero padding of `crop_pad` pixels and a horizontal flip
/// with probability 1/2, drawn from the given DataRng.
struct Augment {
  int crop_pad = 0;
  bool hflip = false;
  bool enabled() const { return crop_pad > 0 || hflip; }
};

/// Assemble a batch: normalized copies of items idx[0..n) into `out`
/// (n x C x H x W) and their labels into `labels`.  With `aug` enabled the
/// DataRng is drawn in item order, so the batch is the same for any thread count.
void make_batch(const Dataset& d, const std::size_t* idx, std::size_t n, const Normalization& norm,
                const Augment& aug, DataRng* rng, float* out, std::int32_t* labels);

}  // namespace convkit
