// convkit/arch.hpp — the architecture language (the seed's notation).
//
//   "CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3"
//   "CONV2-3/circular -> ReLU -> CONV2-3/circular -> ReLU -> GAP -> FC-3"
//   "(CONV3-256 ReLU)x3 CONV3-64/s2/p0 AVGPOOL2 BN DROPOUT0.5 SOFTMAX"
//
// One parser, shared by `shape`, `receptive-field` and `train`.
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
  int column = 0;    ///< 1-based column of the token in the source line, for messages
  int kernel = 0;    ///< conv / pool window size K (square)
  int filters = 0;   ///< conv: output channels F (0 = not given: geometry only); fc: units
  int stride = 1;    ///< conv default 1; pool default K
  int pad = 0;       ///< conv default floor(K/2); pool default 0
  Border border = Border::zero;  ///< conv padding mode
  double rate = 0.0;             ///< dropout probability
};

struct Arch {
  std::vector<LayerSpec> layers;
};

/// Parse; throws ParseError whose message shows the source, a caret under the
/// offending token and what was expected.
Arch parse_arch(std::string_view text);
/// Read from a file (`#` comments), then parse.
Arch read_arch_file(const std::string& path);

/// Shape of an activation: width x height x channels (the seed's W x H x C);
/// after FLATTEN/FC: width = height = 1.
struct Shape3 {
  std::int64_t w = 0, h = 0, c = 0;
};

}  // namespace convkit
