// convkit/arch.hpp — the architecture language (the seed's notation).
//
//   "CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3"
//   "CONV2-3/circular -> ReLU -> CONV2-3/circular -> ReLU -> GAP -> FC-3"
//   "(CONV3-256 ReLU)x3 CONV3-64/s2/p0 AVGPOOL2 BN DROPOUT0.5 SOFTMAX"
//
// One parser, shared by `shape`, `receptive-field` and `train`.
//
// Grammar (case-insensitive; layers separated by spaces, commas, `->` or `→`):
//
//   arch    := item*
//   item    := layer | "(" arch ")" ("x" | "X" | "×" | "*") COUNT
//   layer   := CONVk[-F] | POOLk | MAXPOOLk | AVGPOOLk | FC-N | FLATTEN | GAP
//            | RELU | BN | BATCHNORM | DROPOUT[p] | SOFTMAX     followed by options
//   option  := "/s" N  (stride)  | "/p" N  (padding)
//            | "/p" B ":" A  (CONV: B before, A after, both axes)
//            | "/p" T ":" B ":" L ":" R  (CONV: top, bottom, left, right)
//            | "/zero" | "/circular" | "/reflect" | "/symmetric" | "/replicate"  (conv border)
//
// Defaults, as in the seed: CONVk has stride 1 and padding floor(k/2) (CONV3
// keeps the size; CONV2 with padding 1 grows it by one), POOLk has stride k
// and padding 0; DROPOUT alone means p = 0.5.  /s applies to CONV and pools,
// /p to CONV and pools, border modes to CONV only.  A CONV without a filter
// count (CONV3) is allowed by the parser for geometry-only uses
// (receptive fields); infer_shapes() rejects it.
//
// FC-N is fully connected to every value of its input: on a W×H×C input it
// has W·H·C·N weights (an implicit FLATTEN, as in the VGG paper's tables).
//
// Limits (anything larger is a ParseError, not an overflow): kernel, stride
// and padding <= 65535, filters and units <= 1,000,000, a repeat count
// <= 10,000, nesting depth <= 32, and at most 100,000 layers after expansion.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "convkit/engine.hpp"

namespace convkit {

enum class LayerKind {
  conv,
  maxpool,
  avgpool,
  flatten,
  fc,
  relu,
  gap,
  batchnorm,
  dropout,
  softmax
};

struct LayerSpec {
  LayerKind kind = LayerKind::relu;
  std::string text;  ///< the token as written (after repeat expansion), e.g. "CONV3-64/s2"
  int column = 0;    ///< 1-based column (in characters) of the token in its line, for messages
  int line = 1;      ///< 1-based line of the token (files may span lines)
  int kernel = 0;    ///< conv / pool window size K (square)
  int filters = 0;   ///< conv: output channels F (0 = not given: geometry only); fc: units
  int stride = 1;    ///< conv default 1; pool default K
  int pad = 0;       ///< conv default floor(K/2); pool default 0 (every side)
  /// CONV only: /pB:A (B before and A after, on both axes) or /pT:B:L:R sets
  /// each side on its own; `sides` then overrides `pad`.
  bool asymmetric = false;
  Padding sides;
  /// The padding of each side.
  Padding padding() const { return asymmetric ? sides : Padding{pad, pad, pad, pad}; }
  Border border = Border::zero;  ///< conv padding mode
  double rate = 0.0;             ///< dropout probability, in [0, 1)
};

struct Arch {
  std::vector<LayerSpec> layers;
};

/// Parse; throws ParseError whose message names the source and column and says
/// what was expected; its mark() carries the source line and the token's
/// column/width so the command line can draw a caret under it.
/// `source_name` names the text in messages ("SPEC", a file name).
Arch parse_arch(std::string_view text, std::string_view source_name = "SPEC");
/// Read from a file (`#` starts a comment to the end of the line; layers may
/// span lines), then parse.  Messages name the file, line and column.
Arch read_arch_file(const std::string& path);
/// The text of an architecture file, with read_arch_file's checks (at most
/// 16 MiB, no NUL bytes; a UTF-8 byte-order mark is dropped), not parsed.
std::string read_arch_text(const std::string& path);

/// Shape of an activation: width x height x channels (the seed's W x H x C);
/// after FLATTEN/FC: width = height = 1.
struct Shape3 {
  std::int64_t w = 0, h = 0, c = 0;
};

/// "28x28x1", "28×28×1", or "28x28" (one channel): W x H x C.  Each extent
/// must be in [1, 1,000,000].  Throws UsageError.
Shape3 parse_input_shape(std::string_view text);

/// "28×28×10" for an image-shaped activation, "490" for a flat one.
std::string format_shape(const Shape3& s, bool flat);

/// Pretty one-word name of a layer's kind ("conv", "maxpool", ...).
std::string_view to_string(LayerKind k);

/// One layer of a network applied to a concrete input.
struct LayerShape {
  Shape3 input, output;
  bool flat = false;             ///< output is a vector (after FLATTEN / FC): shown as "490"
  std::int64_t params = 0;       ///< learnable parameters (weights + biases; BN: γ and β)
  std::string formula;           ///< the count in the seed's style: "3×3×1×10 + 10 = 100", "0"
  std::int64_t activations = 0;  ///< values in the output (w·h·c)
  std::int64_t macs = 0;         ///< multiply-accumulates for one input (CONV and FC only)
};

struct ShapeReport {
  Shape3 input;
  std::vector<LayerShape> layers;  ///< one per Arch layer, in order
  std::int64_t total_params = 0;
  std::int64_t total_activations = 0;  ///< the input plus every layer's output, one input
  std::int64_t total_macs = 0;
};

/// Propagate `input` through the network: output shape, parameters (with the
/// seed-style formula), activations and MACs of every layer.
///   CONV: W' = floor((W + 2P - K)/S) + 1 (seed 3(a)), W + L + R for asymmetric
///         padding (H + T + B); K·K·C·F + F parameters;
///         W'·H'·F·K·K·C MACs.
///   POOL/AVGPOOL: W' = floor((W + 2P - K)/S) + 1 (seed 3(b)); no parameters.
///   FLATTEN: 1×1×(W·H·C);  GAP: 1×1×C;  FC-N: 1×1×N with W·H·C·N + N parameters.
///   BN: 2C parameters (γ, β; running statistics are not parameters).
/// Throws UsageError naming the layer (index, token, line:column) when a CONV
/// has no filter count, when a layer's output would be smaller than 1×1
/// (the window does not fit), or when a count overflows 64 bits.
ShapeReport infer_shapes(const Arch& arch, Shape3 input);

/// Receptive field of the first unit of a layer's output on the network's
/// input, per axis (kernels are square, so one number serves both axes).
/// Closed forms of Araujo, Norris & Sim, "Computing Receptive Fields of
/// Convolutional Neural Networks", Distill 2019, with layer l having kernel
/// k_l, stride s_l and padding p_l (element-wise layers: k = s = 1, p = 0):
///   jump  j_l = Π_{i<=l} s_i
///   size  r_l = Σ_{m<=l} (k_m − 1)·j_{m−1} + 1
///   start u_l = −Σ_{m<=l} p_m·j_{m−1}   (input index of the first unit's
///                                        left/top edge; negative = padding)
/// Unit n of layer l sees input indices [u_l + n·j_l, u_l + n·j_l + r_l − 1].
/// With asymmetric padding the start differs per axis: `start` counts the
/// padding before the rows (top), `start_x` before the columns (left).
/// From the first FLATTEN, GAP or FC on, every unit sees the whole input:
/// those layers are marked `global` (rf, jump and start are then 0).
struct LayerRF {
  bool global = false;
  std::int64_t rf = 1, jump = 1, start = 0;
  std::int64_t start_x = 0;  ///< the columns' start (= start unless padding is asymmetric)
};
/// One entry per layer.  Throws UsageError if a value overflows 64 bits.
std::vector<LayerRF> receptive_fields(const Arch& arch);

}  // namespace convkit
