// src/cli/batch.hpp — many inputs, one command: the shared batch driver.
//
// A command that turns each input file into one output file (blur, edge,
// convolve on images) declares its flags with add_batch_options() and hands
// a per-file function to run_batch():
//   INPUT...        files, or "-" (standard input, only as the sole input)
//   -o OUT          the output for a single input ("-" = standard output)
//   --outdir DIR    outputs for any number of inputs: DIR/<base><suffix>.<ext>
//                   where <base> is the input's file name without extension
//   --suffix S      appended to <base> (default none)
//   --format EXT    the output format (png, jpg, bmp, tga, pgm, ppm, tif, npy) in
//                   --outdir or on standard output; default: the input's own
//                   format (on standard output: NPY for float input, else PNG)
//   --quality Q     JPEG quality 1..100 (refused when an output is not JPEG)
//   -j N            N files at a time (default 1); each file's convolution
//                   still runs on the --threads pool, so -j overlaps decoding
//                   and encoding of some files with the filtering of another
//   --shard K/N     process only every N-th input starting at the K-th
//                   (1-based, round-robin over the list as given), so N
//                   machines or jobs with K = 1..N cover every file exactly once
//   --shard auto    K/N from Slurm's job-array variables (SLURM_ARRAY_TASK_ID, _MIN,
//                   _STEP, _COUNT)
//   --files-from F  read more inputs from F, one path a line ("-" = stdin);
//   -0, --null      ... NUL-separated instead (find -print0)
//   --relative-to D with --outdir: DIR/<path below D>, mirroring the tree
//   --skip-existing an output that exists is not recomputed
//   --log F.jsonl   one JSON line per input, appended with one write()
//   --quiet         no progress; errors only
// Progress: a one-line bar on a terminal (stderr is a tty), otherwise one
// plain line per finished file.  A failed file is reported in one line
// ("convkit: error: FILE: reason") and skipped; the others are processed.
// Exit status: 0 when no input failed, 1 when every input failed, 3 when
// some failed (with "convkit: F of N inputs failed" on stderr).  Outputs are
// written atomically by the per-file function (write_image), so a failure
// never leaves a partial output, and an existing output is a complete one.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "convkit/io/image.hpp"

namespace convkit::cli {

struct BatchOptions {
  std::vector<std::string> inputs;
  std::string output;
  std::string outdir;
  std::string suffix;
  std::string format;
  int quality = 0;  ///< --quality Q: JPEG quality 1..100; 0: the writer's default (92)
  int jobs = 1;
  std::string shard;
  bool quiet = false;
  std::string files_from;
  bool null_separated = false;
  std::string relative_to;
  bool skip_existing = false;
  std::string log;
  std::string compression;  ///< TIFF output: none, lzw, deflate ("": none)
  int tile = 0;             ///< TIFF output in tile x tile tiles; 0: strips
};

/// The TIFF writing options --compression and --tile ask for (UsageError for a
/// tile size that is not a multiple of 16).
TiffWriteOptions tiff_options(const BatchOptions& o);
/// UsageError when --compression or --tile is given and `output` is not a TIFF
/// (by its extension, or by --format for standard output).
void check_tiff_flags(const BatchOptions& o, const std::string& output);

/// Appended to the --help footer of every batch command.
inline constexpr const char* kBatchFooter =
    "\n\nOn a cluster:\n"
    "  find in/ -name '*.png' -print0 > list    # then, in each Slurm array task:\n"
    "  convkit CMD ... --files-from list -0 --shard auto --outdir out/ --relative-to in/ \\\n"
    "      --skip-existing --log results-$SLURM_ARRAY_TASK_ID.jsonl\n"
    "Exit status: 0 every input done (or skipped), 3 some inputs failed, 1 all failed,\n"
    "2 wrong command line.";

/// Declare INPUT... and the batch flags on a subcommand.
void add_batch_options(CLI::App* sub, BatchOptions& o);
/// Only the flags for many inputs (not INPUT... and -o), for a command that
/// declares its own operands (convolve INPUT... KERNEL).
void add_batch_flags(CLI::App* sub, BatchOptions& o);

/// One planned unit of work.
struct BatchItem {
  std::string input, output;
  std::string error;  ///< why this input has no output (outside --relative-to, not an image)
};

/// Resolve inputs (with --files-from), shard and output names; throws
/// UsageError on a bad combination (several inputs without --outdir, two
/// inputs of the whole list mapping to the same output, bad --shard or
/// --format, "-" among several inputs, a malformed list).
std::vector<BatchItem> plan_batch(const BatchOptions& o);

/// Run work(item) for every planned item (in parallel for -j > 1).  Returns
/// the number of failed items and sets the exit status (see above).
/// `items` is plan_batch(o): planned once, as --files-from - can be read once.
int run_batch(const BatchOptions& o, const std::vector<BatchItem>& items, const std::string& verb,
              const std::function<void(const BatchItem&)>& work);

/// --abs / --normalize / --offset V / --clip: how values outside an integer
/// format's range are written.
struct PolicyFlags {
  bool abs = false, normalize = false, clip = false;
  double offset = 0;
  bool offset_given = false;
};
void add_policy_options(CLI::App* sub, PolicyFlags& p);
/// True when the user gave one of the flags; fills opts.  UsageError when several.
bool apply_policy_flags(const PolicyFlags& p, ImageWriteOptions& opts);

/// --alpha premultiply|pass and --linear, as blur and sharpen take them
/// (`verb`: "Blur", "Sharpen", the start of --linear's help).
struct ColourFlags {
  std::string alpha = "premultiply";
  bool linear = false;
};
void add_colour_options(CLI::App* sub, ColourFlags& c, const std::string& verb);
/// --quality: the JPEG quality of `opts` (unchanged when not given).
void apply_quality(const BatchOptions& o, ImageWriteOptions& opts);

/// The format of standard output for input `in`: --format, else NPY for float
/// input (.npy float32/float64) and PNG for 8/16-bit images.
std::string stdout_format(const BatchOptions& o, const Image& in);

/// True when writing `path` keeps float values exactly (.npy).
bool is_float_output(const std::string& path);

}  // namespace convkit::cli
