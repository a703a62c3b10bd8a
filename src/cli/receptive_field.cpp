// convkit receptive-field — per-layer receptive field size, effective stride
// (jump) and start offset, in closed form (Araujo, Norris & Sim, Distill 2019).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/arch_common.hpp"
#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/arch.hpp"
#include "convkit/error.hpp"
#include "convkit/io/text.hpp"
#include "convkit/nn/model.hpp"

namespace convkit::cli {

namespace {

struct ReceptiveFieldOptions {
  ArchSource source;
  std::string input;  ///< optional W x H x C: adds each layer's output size
  int layers = 0;     ///< shortcut: a uniform stack of `layers` CONVk/sS
  int kernel = 0;
  int stride = 1;
  bool stride_given = false;  ///< --stride acts only with --layers; refused otherwise
  std::string format = "table";
  bool empirical = false;  ///< also measure each field by back-propagation
};

// One row of output: a layer with its receptive field (and output size).
struct RFRow {
  std::string spec;
  LayerRF rf;
  bool has_size = false;
  Shape3 size;
  bool flat = false;
  std::int64_t measured = 0;  ///< --empirical: the measured size (0: global layer)
};

Arch shortcut_arch(const ReceptiveFieldOptions& o) {
  if (o.kernel < 1) throw UsageError("--layers needs --kernel K (the kernel size of every layer)");
  Arch a;
  LayerSpec l;
  l.kind = LayerKind::conv;
  l.kernel = o.kernel;
  l.stride = o.stride;
  l.pad = o.kernel / 2;
  l.text =
      "CONV" + std::to_string(o.kernel) + (o.stride != 1 ? "/s" + std::to_string(o.stride) : "");
  for (int i = 0; i < o.layers; ++i) {
    l.column = 0;
    a.layers.push_back(l);
  }
  return a;
}

std::vector<RFRow> compute(const ReceptiveFieldOptions& o, Arch& arch) {
  const bool shortcut = o.layers > 0;
  if (shortcut && (!o.source.words.empty() || !o.source.file.empty()))
    throw UsageError("give the network as SPEC, --arch-file or --layers/--kernel, not several");
  if (!shortcut && (o.kernel > 0 || o.stride_given))
    throw UsageError("--kernel and --stride go with --layers L (a uniform stack of L layers)");
  arch = shortcut ? shortcut_arch(o) : load_arch(o.source);
  std::vector<LayerRF> rf = receptive_fields(arch);
  std::vector<RFRow> rows(arch.layers.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].spec = arch.layers[i].text;
    rows[i].rf = rf[i];
  }
  if (o.empirical) {
    // Back-propagate from a middle unit of each layer through the real
    // layers; the support must be the closed form's size.
    // The probe of layer i runs an input of about rf + 2 jump samples per side
    // through i layers: refuse networks whose probes would take minutes.
    auto probe_side = [](const LayerRF& f) {
      long long side = 8;
      while (side < f.rf + 2 * f.jump + 2 && side <= nn::kMaxProbeSize) side *= 2;
      return side;
    };
    double work = 0, windows = 0;
    for (std::size_t i = 0; i < rows.size() && !rows[i].rf.global; ++i) {
      const LayerKind k = arch.layers[i].kind;
      if (k == LayerKind::conv || k == LayerKind::maxpool || k == LayerKind::avgpool) ++windows;
      const double side = static_cast<double>(probe_side(rows[i].rf));
      work += windows * side * side;
      if (rows[i].rf.rf > nn::kMaxProbeSize - 2 || work > 5e7)
        throw UsageError("--empirical: the network is too large to measure (layer " +
                         std::to_string(i + 1) + " '" + rows[i].spec +
                         "' has a receptive field of " + std::to_string(rows[i].rf.rf) + ")");
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].rf.global) break;
      const nn::FieldSize f =
          nn::empirical_receptive_field(arch, i + 1, static_cast<int>(probe_side(rows[i].rf)));
      rows[i].measured = f.height;
      if (f.height != rows[i].rf.rf || f.width != rows[i].rf.rf)
        throw Error("layer " + std::to_string(i + 1) + " '" + rows[i].spec +
                    "': measured receptive field " + std::to_string(f.height) + "x" +
                    std::to_string(f.width) + " differs from the closed form " +
                    std::to_string(rows[i].rf.rf));
    }
  }
  if (!o.input.empty()) {
    // Sizes need no filter counts: give geometry-only CONVs one filter.
    Arch sized = arch;
    for (auto& l : sized.layers)
      if (l.kind == LayerKind::conv && l.filters < 1) l.filters = 1;
    ShapeReport rep = infer_shapes(sized, parse_input_shape(o.input));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      rows[i].has_size = true;
      rows[i].size = rep.layers[i].output;
      rows[i].flat = rep.layers[i].flat;
    }
  }
  return rows;
}

std::string size_text(const RFRow& r) {
  if (r.flat) return std::to_string(r.size.c);
  return std::to_string(r.size.w) + "\xC3\x97" + std::to_string(r.size.h);
}

void run_receptive_field(const ReceptiveFieldOptions& o) {
  const ArchFormat fmt = arch_format(o.format);
  Arch arch;
  std::vector<RFRow> rows = compute(o, arch);
  const bool sized = !o.input.empty();
  if (fmt == ArchFormat::json) {
    std::string s = "{\n  \"layers\": [";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const RFRow& r = rows[i];
      s += i ? ",\n    " : "\n    ";
      s += "{\"spec\": " + json_string(r.spec);
      if (r.rf.global)
        s += ", \"rf\": null, \"jump\": null, \"start\": null, \"global\": true";
      else
        s += ", \"rf\": " + std::to_string(r.rf.rf) + ", \"jump\": " + std::to_string(r.rf.jump) +
             ", \"start\": " + std::to_string(r.rf.start) +
             (r.rf.start_x != r.rf.start ? ", \"start_x\": " + std::to_string(r.rf.start_x)
                                         : std::string()) +
             ", \"global\": false";
      if (o.empirical)
        s += r.measured > 0 ? ", \"measured\": " + std::to_string(r.measured)
                            : std::string(", \"measured\": null");
      if (r.has_size)
        s += ", \"output\": [" + std::to_string(r.size.w) + "," + std::to_string(r.size.h) + "]";
      s += "}";
    }
    s += "\n  ]\n}\n";
    std::fputs(s.c_str(), stdout);
    return;
  }
  TextTable t;
  const bool csv = fmt == ArchFormat::csv;
  t.header = {"layer", "rf", "jump", "start"};
  if (csv) t.header.insert(t.header.begin(), "index");
  if (o.empirical) t.header.push_back("measured");
  if (sized) t.header.push_back("output");
  t.right = std::vector<bool>(t.header.size(), true);
  t.right[csv ? 1 : 0] = false;
  if (csv) t.right[0] = true;
  auto add = [&](const std::string& index, const std::string& spec, const LayerRF& rf,
                 const std::string& size, std::int64_t measured) {
    std::vector<std::string> row;
    if (csv) row.push_back(index);
    row.push_back(spec);
    if (rf.global) {
      row.push_back(csv ? "" : "whole input");
      row.push_back("");
      row.push_back("");
    } else {
      row.push_back(std::to_string(rf.rf));
      row.push_back(std::to_string(rf.jump));
      // Asymmetric padding: the rows' and the columns' start, "y,x".
      row.push_back(std::to_string(rf.start) +
                    (rf.start_x != rf.start ? "," + std::to_string(rf.start_x) : std::string()));
    }
    if (o.empirical) row.push_back(measured > 0 ? std::to_string(measured) : "");
    if (sized) row.push_back(size);
    t.rows.push_back(std::move(row));
  };
  std::string in_size;
  if (sized) {
    Shape3 in = parse_input_shape(o.input);
    in_size = std::to_string(in.w) + "\xC3\x97" + std::to_string(in.h);
  }
  add("0", "input", LayerRF{}, in_size, 1);
  for (std::size_t i = 0; i < rows.size(); ++i)
    add(std::to_string(i + 1), rows[i].spec, rows[i].rf, sized ? size_text(rows[i]) : "",
        rows[i].measured);
  std::string out = render_table(t, fmt);
  if (!csv) {
    const char* note =
        "rf: receptive field size (input pixels per side); jump: input pixels between "
        "neighbouring units; start: input index of the first unit's field (negative = padding; "
        "y,x when the padding differs between rows and columns)";
    out += fmt == ArchFormat::markdown ? std::string("\n") + note + ".\n"
                                       : std::string("\n") + note + "\n";
  }
  std::fputs(out.c_str(), stdout);
}

void register_receptive_field(CLI::App& app) {
  static ReceptiveFieldOptions o;
  CLI::App* sub = app.add_subcommand(
      "receptive-field",
      "Per-layer receptive field size, effective stride (jump) and start offset of a CNN");
  add_arch_source(sub, o.source);
  sub->add_option("--input,-i", o.input,
                  "Also show each layer's output size for this input (W x H x C)");
  sub->add_option("--layers,-L", o.layers, "Shortcut: a stack of L equal convolutions")
      ->check(whole_range(1, 100000));
  sub->add_option("--kernel,-k", o.kernel, "With --layers: the kernel size K of every layer")
      ->check(whole_range(1, 65535));
  sub->add_option("--stride,-s", o.stride, "With --layers: the stride S of every layer")
      ->check(whole_range(1, 65535))
      ->default_val(1)
      ->each([](const std::string&) { o.stride_given = true; });
  sub->add_flag("--empirical,-e", o.empirical,
                "Also measure each field: back-propagate from the middle unit of the layer's "
                "output through the real layers (weights 1, ReLU as identity, max-pool as "
                "average) and report the size of the non-zero input gradient; fails (exit 1) "
                "if it differs from the closed form");
  add_arch_format(sub, o.format);
  sub->footer(
      "Closed forms (Araujo, Norris & Sim, \"Computing Receptive Fields of Convolutional\n"
      "Neural Networks\", Distill 2019), layer l with kernel k, stride s, padding p:\n"
      "  jump  j_l = j_{l-1}·s_l              (j_0 = 1)\n"
      "  rf    r_l = r_{l-1} + (k_l - 1)·j_{l-1}  (r_0 = 1)\n"
      "  start u_l = u_{l-1} - p_l·j_{l-1}      (u_0 = 0)\n"
      "Unit n of layer l sees input pixels u_l + n·j_l ... u_l + n·j_l + r_l - 1.\n"
      "ReLU, BN, DROPOUT and SOFTMAX leave the field alone; from FLATTEN, GAP or FC on\n"
      "every unit sees the whole input.  The layer language is that of 'convkit shape';\n"
      "filter counts may be left out (CONV3).\n"
      "\n"
      "Examples:\n"
      "  convkit receptive-field \"CONV3 CONV3 POOL2 CONV3 CONV3 POOL2\"\n"
      "  convkit receptive-field --layers 5 --kernel 3          # 5·(3-1)+1 = 11\n"
      "  convkit receptive-field \"CONV3/s2 POOL2 CONV2/circular\" --empirical\n"
      "  convkit receptive-field --arch-file data/arch/vgg16.arch -i 224x224x3 --format json");
  sub->callback([] { run_receptive_field(o); });
}

CONVKIT_COMMAND(41, register_receptive_field);

}  // namespace

}  // namespace convkit::cli
