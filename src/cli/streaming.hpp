// src/cli/streaming.hpp — blur and edge on one input: streamed by rows when
// the input and output formats allow it, else read whole.
//
// The rule (also in README "Images of any size" and the man pages):
//   * an input streams when it is a regular file in a format that can be read
//     by rows (PNG not interlaced, baseline JPEG, binary PGM/PPM, C-order
//     .npy, uncompressed BMP, TIFF) and the
//     output can be written by rows (PNG, PGM/PPM, float .npy, to a file or
//     standard output), and the command's options allow it (edge --grey and
//     canny do not);  its working set, O(width x (kernel + band) x channels),
//     must fit in --memory (default: half the physical memory, at least 1 GiB);
//     --max-pixels applies to it only when given on the command line;
//   * any other input is read whole, as before: --max-pixels applies, and its
//     whole-image working set must fit in --memory too;
//   * --normalize (and edge's default for magnitudes) reads a streamed input
//     twice: a first pass finds the range, the second writes.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "cli/batch.hpp"
#include "convkit/filtering.hpp"
#include "convkit/io/image.hpp"
#include "convkit/pipeline.hpp"

namespace convkit::cli {

/// --memory BYTES on a streamed command.
void add_memory_option(CLI::App* sub, std::string& memory);
/// The budget in bytes: --memory, or the default when empty.
std::int64_t memory_budget(const std::string& memory);
/// The default budget: half the physical memory, at least 1 GiB.
std::int64_t default_memory_budget();

/// How a command writes its result, decided from the shapes alone: the write
/// options, an affine map a*v + b of the colour planes applied first, and the
/// bit depth the result is written as (0: the filter's).
struct OutputRule {
  ImageWriteOptions write;
  bool affine = false;
  double a = 1, b = 0;
  int bit_depth = 0;
};
/// `in`: the input's shape; `out`: the result's shape; `output` the item's output.
using RuleFn =
    std::function<OutputRule(const Image& in, const Image& out, const std::string& output)>;

/// What a command does differently from plain f (each optional).
struct ItemHooks {
  std::function<void(Image&)> prepare;  ///< whole path: on the decoded image first (to_grey)
  /// whole path: instead of f on the planes (for the inputs `streams` refuses,
  /// when it is set: the others are f on the planes)
  std::function<void(const Image&, Image&)> filter;
  std::function<bool(const Image&)> streams;  ///< false: an input of this shape is read whole
};

/// Filter one batch item by f: streamed when it can be, else whole.
/// `may_stream` false forces the whole-image path (an option that needs it).
/// `max_pixels` > 0: --max-pixels given on the command line, which then
/// applies to streamed inputs too (images read whole always have the limit).
void filter_item(const BatchOptions& batch, const BatchItem& item, const PlaneFilter& f,
                 const RuleFn& rule, std::int64_t memory, std::int64_t max_pixels, bool may_stream,
                 const ItemHooks& hooks = {});

/// The streamed half of filter_item (convolve's too): src (from row 0)
/// through f on geo into item.output, a file (atomically) or standard output,
/// by the rule r (a first pass for the range when r.write.policy is
/// normalize).  `shape`: the result's shape.  Errors name item.input.
void stream_to_output(RowSource& src, const PlaneFilter& f, const StreamGeometry& geo,
                      const Image& shape, const OutputRule& r, const BatchItem& item,
                      std::int64_t memory);

/// --max-pixels as given: 0 when it is the default (streamed inputs then have no pixel limit).
std::int64_t explicit_max_pixels(long long max_pixels);

}  // namespace convkit::cli
