// A model built from the architecture language and `shape`'s inference
// (infer_shapes) agree on every layer's shape and parameter count.  Both size
// windows with window_output_length (tested in engine/test_output_length.cpp);
// this test holds the rest: each side's padding rules, flattening and counts.
#include <doctest/doctest.h>

#include <string>

#include "convkit/arch.hpp"
#include "convkit/nn/model.hpp"

using namespace convkit;

TEST_CASE("[nn] built models agree with shape inference on shapes and parameter counts") {
  struct Net {
    const char* spec;
    Shape3 input;  // W x H x C
  };
  const Net nets[] = {
      {"CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3", {28, 28, 1}},
      {"CONV2-3/circular -> ReLU -> CONV2-3/circular -> ReLU -> GAP -> FC-3", {8, 8, 1}},
      {"CONV3-32 BN ReLU CONV3-32 BN ReLU POOL2 CONV3-64 BN ReLU CONV3-64 BN ReLU POOL2 "
       "FLATTEN FC-256 ReLU FC-10",
       {28, 28, 1}},
      {"(CONV3-8 ReLU)x2 CONV3-6/s2/p0 AVGPOOL2 BN DROPOUT0.5 FC-5 BN SOFTMAX", {17, 13, 3}},
      {"CONV5-4/s2/p2/reflect MAXPOOL3/s2/p1 CONV1-7 GAP FC-2", {32, 24, 2}},
      {"CONV4-3/s3/p1 FC-4 DROPOUT0.2 FC-2", {11, 11, 1}},
  };
  for (const Net& n : nets) {
    CAPTURE(n.spec);
    const Arch arch = parse_arch(n.spec);
    const ShapeReport rep = infer_shapes(arch, n.input);
    nn::Sequential<float> model(arch,
                                nn::Dims{static_cast<int>(n.input.c), static_cast<int>(n.input.h),
                                         static_cast<int>(n.input.w)});
    REQUIRE(model.size() == rep.layers.size());
    for (std::size_t i = 0; i < model.size(); ++i) {
      CAPTURE(i);
      const nn::Dims d = model.layer_output(i);
      const Shape3 s = rep.layers[i].output;
      CHECK(d.c == s.c);
      CHECK(d.h == s.h);
      CHECK(d.w == s.w);
      CHECK(static_cast<std::int64_t>(model.layer_param_count(i)) == rep.layers[i].params);
    }
    CHECK(static_cast<std::int64_t>(model.params().size()) == rep.total_params);
  }
}
