// The measured receptive field (back-propagation through the real layers)
// against the closed form r = 1 + sum_l (k_l - 1) prod_{i<l} s_i, computed here.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/nn/model.hpp"

using namespace convkit;
using namespace convkit::nn;

namespace {

LayerSpec layer(LayerKind kind, int k, int stride, int pad, Border b = Border::zero) {
  LayerSpec s;
  s.kind = kind;
  s.kernel = k;
  s.filters = 2;
  s.stride = stride;
  s.pad = pad;
  s.border = b;
  s.text = std::string("L");
  return s;
}

int closed_form(const Arch& a) {
  long long r = 1, jump = 1;
  for (const LayerSpec& s : a.layers) {
    if (s.kind != LayerKind::conv && s.kind != LayerKind::maxpool && s.kind != LayerKind::avgpool)
      continue;
    r += (s.kernel - 1) * jump;
    jump *= s.stride;
  }
  return static_cast<int>(r);
}

}  // namespace

TEST_CASE("[nn] empirical receptive field equals the closed form") {
  const auto C = LayerKind::conv;
  const auto MP = LayerKind::maxpool;
  const auto AP = LayerKind::avgpool;
  const std::vector<std::vector<LayerSpec>> specs = {
      {layer(C, 3, 1, 1), layer(C, 3, 1, 1)},                                          // 5
      {layer(C, 3, 2, 1), layer(C, 3, 1, 1), layer(C, 3, 2, 1)},                       // strided
      {layer(C, 3, 1, 1), layer(MP, 2, 2, 0), layer(C, 3, 1, 1), layer(MP, 2, 2, 0)},  // pooled
      {layer(C, 2, 1, 1), layer(C, 2, 1, 1), layer(C, 4, 2, 1), layer(C, 2, 1, 0)},    // even
      {layer(C, 3, 1, 1, Border::circular), layer(C, 2, 1, 1, Border::circular),
       layer(C, 5, 1, 2, Border::circular)},  // circular
      {layer(C, 7, 2, 3), layer(MP, 3, 2, 1), layer(C, 3, 1, 1), layer(AP, 2, 2, 0),
       layer(C, 3, 1, 1)},  // mixed
  };
  for (const auto& layers : specs) {
    Arch a;
    a.layers = layers;
    LayerSpec relu;
    relu.kind = LayerKind::relu;
    a.layers.insert(a.layers.begin() + 1, relu);  // ReLU must not silence paths
    const FieldSize f = empirical_receptive_field(a, a.layers.size());
    CAPTURE(closed_form(a));
    CHECK(f.height == closed_form(a));
    CHECK(f.width == closed_form(a));
  }
}

TEST_CASE("[nn] empirical receptive field: prefixes and errors") {
  Arch a;
  a.layers = {layer(LayerKind::conv, 3, 1, 1), layer(LayerKind::conv, 5, 1, 2)};
  CHECK(empirical_receptive_field(a, 1).height == 3);
  CHECK(empirical_receptive_field(a, 2).height == 7);
  LayerSpec fl;
  fl.kind = LayerKind::flatten;
  a.layers.push_back(fl);
  CHECK_THROWS_AS(empirical_receptive_field(a, 3), UsageError);
}
