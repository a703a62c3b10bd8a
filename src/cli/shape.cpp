// convkit shape — per-layer output shapes, parameter counts (with the seed's
// formulas), activations and multiply-accumulates of a network.
#include <cstdio>
#include <string>

#include "cli/arch_common.hpp"
#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/arch.hpp"
#include "convkit/error.hpp"
#include "convkit/io/text.hpp"

namespace convkit::cli {

namespace {

struct ShapeOptions {
  ArchSource source;
  std::string input;
  std::int64_t batch = 1;
  std::string format = "table";
};

constexpr const char* kFlopsConvention =
    "FLOPs = 2 x MACs (one multiply and one add per multiply-accumulate); MACs count the "
    "CONV and FC layers only (bias additions, activations, pooling and batchnorm are not "
    "counted)";
constexpr const char* kShortConvention =
    "MACs count CONV and FC weights only (not bias, activation, pooling or BN arithmetic)";
constexpr double kBytesPerValue = 4.0;  // float32

std::string json_shape(const Shape3& s) {
  return "[" + std::to_string(s.w) + "," + std::to_string(s.h) + "," + std::to_string(s.c) + "]";
}

std::int64_t checked_mul(std::int64_t a, std::int64_t b, const char* what) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw UsageError(std::string("the ") + what + " for the batch does not fit in 64 bits");
  return r;
}

void print_json(const Arch& arch, const ShapeReport& rep, const ShapeOptions& o) {
  std::string s = "{\n  \"input\": " + json_shape(rep.input) + ",\n  \"layers\": [";
  for (std::size_t i = 0; i < rep.layers.size(); ++i) {
    const LayerShape& l = rep.layers[i];
    s += i ? ",\n    " : "\n    ";
    s += "{\"spec\": " + json_string(arch.layers[i].text) +
         ", \"kind\": " + json_string(to_string(arch.layers[i].kind)) +
         ", \"output\": " + json_shape(l.output) + ", \"flat\": " + (l.flat ? "true" : "false") +
         ", \"params\": " + std::to_string(l.params) + ", \"formula\": " + json_string(l.formula) +
         ", \"activations\": " + std::to_string(l.activations) +
         ", \"macs\": " + std::to_string(l.macs) + "}";
  }
  s += "\n  ],\n";
  s += "  \"total_params\": " + std::to_string(rep.total_params) + ",\n";
  s += "  \"total_macs\": " + std::to_string(rep.total_macs) + ",\n";
  s += "  \"total_flops\": " + std::to_string(checked_mul(rep.total_macs, 2, "FLOP count")) + ",\n";
  s += "  \"flops_convention\": " + json_string(kFlopsConvention) + ",\n";
  s += "  \"total_activations\": " + std::to_string(rep.total_activations) + ",\n";
  s += "  \"bytes_per_value\": 4,\n";
  s += "  \"batch\": " + std::to_string(o.batch) + ",\n";
  s += "  \"activation_bytes\": " +
       std::to_string(checked_mul(rep.total_activations, 4, "activation memory")) + ",\n";
  s += "  \"batch_activation_bytes\": " +
       std::to_string(checked_mul(checked_mul(rep.total_activations, 4, "activation memory"),
                                  o.batch, "activation memory")) +
       ",\n";
  s += "  \"batch_macs\": " + std::to_string(checked_mul(rep.total_macs, o.batch, "MAC count")) +
       "\n}\n";
  std::fputs(s.c_str(), stdout);
}

void run_shape(const ShapeOptions& o) {
  const ArchFormat fmt = arch_format(o.format);
  if (o.input.empty())
    throw UsageError("shape needs the input size: --input WxHxC, e.g. --input 28x28x1");
  Shape3 input = parse_input_shape(o.input);
  Arch arch = load_arch(o.source);
  ShapeReport rep = infer_shapes(arch, input);
  // Batch totals are checked here so no format prints a wrapped number.
  std::int64_t batch_values = checked_mul(rep.total_activations, o.batch, "activation count");
  checked_mul(batch_values, 4, "activation memory");
  std::int64_t batch_macs = checked_mul(rep.total_macs, o.batch, "MAC count");
  checked_mul(batch_macs, 2, "FLOP count");

  if (fmt == ArchFormat::json) {
    print_json(arch, rep, o);
    return;
  }
  TextTable t;
  const bool csv = fmt == ArchFormat::csv;
  if (csv) {
    t.header = {"layer",  "spec",   "kind",    "output_w",    "output_h", "output_c",
                "output", "params", "formula", "activations", "macs"};
    t.rows.push_back({"0", "input", "input", std::to_string(input.w), std::to_string(input.h),
                      std::to_string(input.c), format_shape(input, false), "0", "0",
                      std::to_string(input.w * input.h * input.c), "0"});
    for (std::size_t i = 0; i < rep.layers.size(); ++i) {
      const LayerShape& l = rep.layers[i];
      t.rows.push_back({std::to_string(i + 1), arch.layers[i].text,
                        std::string(to_string(arch.layers[i].kind)), std::to_string(l.output.w),
                        std::to_string(l.output.h), std::to_string(l.output.c),
                        format_shape(l.output, l.flat), std::to_string(l.params), l.formula,
                        std::to_string(l.activations), std::to_string(l.macs)});
    }
    std::fputs(render_table(t, fmt).c_str(), stdout);
    return;
  }
  t.header = {"layer", "output", "parameters", "activations", "MACs"};
  t.right = {false, false, false, true, true};
  t.rows.push_back(
      {"input", format_shape(input, false), "0", std::to_string(input.w * input.h * input.c), "0"});
  for (std::size_t i = 0; i < rep.layers.size(); ++i) {
    const LayerShape& l = rep.layers[i];
    t.rows.push_back({arch.layers[i].text, format_shape(l.output, l.flat), l.formula,
                      std::to_string(l.activations), std::to_string(l.macs)});
  }
  t.rows.push_back({"total", "", std::to_string(rep.total_params),
                    std::to_string(rep.total_activations), std::to_string(rep.total_macs)});
  std::string out = render_table(t, fmt);
  const bool md = fmt == ArchFormat::markdown;
  auto item = [&](const char* name, const std::string& text) {
    if (md)
      out += std::string("- **") + name + "**: " + text + "\n";
    else
      out += std::string(name) + std::string(13 - std::string(name).size(), ' ') + text + "\n";
  };
  const std::string per_batch = "batch of " + std::to_string(o.batch) + ": ";
  out += "\n";
  item("parameters", group_digits(rep.total_params) + " (" +
                         human_bytes(static_cast<double>(rep.total_params) * kBytesPerValue) +
                         " as float32)");
  std::string act =
      group_digits(rep.total_activations) + " values per input, the input included (" +
      human_bytes(static_cast<double>(rep.total_activations) * kBytesPerValue) + " as float32)";
  if (o.batch > 1)
    act += "; " + per_batch + group_digits(batch_values) + " values (" +
           human_bytes(static_cast<double>(batch_values) * kBytesPerValue) + ")";
  item("activations", act);
  std::string macs = group_digits(rep.total_macs) + " per input";
  if (o.batch > 1) macs += "; " + per_batch + group_digits(batch_macs);
  item("MACs", macs);
  std::string flops = group_digits(2 * rep.total_macs) + " per input";
  if (o.batch > 1) flops += "; " + per_batch + group_digits(2 * batch_macs);
  item("FLOPs", flops + " (2·MACs: a multiply and an add each)");
  item("convention", kShortConvention);
  std::fputs(out.c_str(), stdout);
}

void register_shape(CLI::App& app) {
  static ShapeOptions o;
  CLI::App* sub = app.add_subcommand(
      "shape", "Per-layer output shape, parameters (with formula), activations and MACs of a CNN");
  add_arch_source(sub, o.source);
  sub->add_option("--input,-i", o.input, "Input size W x H x C, e.g. 28x28x1 (C defaults to 1)");
  sub->add_option("--batch,-b", o.batch, "Also give activation memory and MACs for a batch of N")
      ->check(whole_range(1, 1LL << 30))
      ->default_val(1);
  add_arch_format(sub, o.format);
  sub->footer(
      "Layers (case-insensitive; separated by spaces, commas, -> or →):\n"
      "  CONVk-F          k×k convolution, F filters; stride 1, padding floor(k/2)\n"
      "  POOLk, MAXPOOLk  k×k max pooling, stride k, no padding;  AVGPOOLk: average\n"
      "  FLATTEN, FC-N    flatten;  fully connected, N units (flattens implicitly)\n"
      "  GAP              global average pool;  ReLU, BN, DROPOUTp, SOFTMAX\n"
      "  options          /sN stride, /pN padding, /circular /reflect /symmetric\n"
      "                   /replicate /zero (padding mode), e.g. CONV3-64/s2/p0\n"
      "                   CONV only: /pB:A (B before, A after, both axes) or\n"
      "                   /pT:B:L:R (top, bottom, left, right), e.g. CONV2-3/circular/p1:0\n"
      "  (A B)x3          repeat a group\n"
      "\n"
      "Examples:\n"
      "  convkit shape \"CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3\" --input 28x28x1\n"
      "  convkit shape \"CONV2-3/circular -> ReLU -> CONV2-3/circular -> ReLU -> GAP -> FC-3\" "
      "-i 8x8x1\n"
      "  convkit shape \"(CONV3-64 ReLU)x2 POOL2 FLATTEN FC-10\" -i 32x32x3 --batch 128\n"
      "  convkit shape --arch-file data/arch/vgg16.arch --input 224x224x3 --format markdown\n"
      "\n"
      "Shapes: W' = floor((W + 2P - K)/S) + 1.  Parameters: CONV K·K·C·F + F, FC in·N + N,\n"
      "BN 2C (running statistics are not parameters).  Activation memory assumes float32.");
  sub->callback([] { run_shape(o); });
}

CONVKIT_COMMAND(40, register_shape);

}  // namespace

}  // namespace convkit::cli
