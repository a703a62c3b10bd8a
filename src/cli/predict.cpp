// convkit predict: the top classes of images under a trained model.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <numeric>

#include "cli/command.hpp"
#include "cli/outputs.hpp"
#include "cli/validate.hpp"
#include "convkit/arch.hpp"
#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/io/text.hpp"
#include "convkit/train/trainer.hpp"

namespace convkit::cli {

namespace {

struct PredictOptions {
  std::string model;
  std::vector<std::string> images;
  std::string tta = "none", features, out;
  int top = 3, threads = 0;
  long long max_pixels = 0;
  bool json = false;
};

// The image as the model's input: its colour channels (alpha dropped), grey
// made from RGB by the Rec. 601 luma weights or repeated into RGB as needed,
// 16-bit values brought to the 0..255 scale the data sets use.
std::vector<float> to_input(const Image& img, const Checkpoint& ck, const std::string& path) {
  if (img.width != ck.in_width || img.height != ck.in_height)
    throw Error(path + ": image is " + std::to_string(img.width) + "x" +
                std::to_string(img.height) + " but the model takes " + std::to_string(ck.in_width) +
                "x" + std::to_string(ck.in_height));
  const int colour = img.has_alpha() ? img.channels - 1 : img.channels;
  const std::size_t hw = static_cast<std::size_t>(img.width) * img.height;
  const float scale = img.bit_depth == 16 ? 255.f / 65535.f : 1.f;
  std::vector<float> x(hw * ck.in_channels);
  for (int c = 0; c < ck.in_channels; ++c)
    for (std::size_t p = 0; p < hw; ++p) {
      float v;
      if (colour == ck.in_channels) {
        v = img.plane(c)[p];
      } else if (colour == 3 && ck.in_channels == 1) {
        v = 0.299f * img.plane(0)[p] + 0.587f * img.plane(1)[p] + 0.114f * img.plane(2)[p];
      } else if (colour == 1) {
        v = img.plane(0)[p];
      } else {
        throw Error(path + ": image has " + std::to_string(colour) +
                    " colour channels but the model takes " + std::to_string(ck.in_channels));
      }
      x[c * hw + p] = v * scale;
    }
  return x;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// --features LAYER: a number as `shape` and `receptive-field` count layers
// (1 = the first), or the layer's token in the architecture, any case.
std::size_t find_layer(const std::string& want, const Checkpoint& ck) {
  const Arch arch = parse_arch(ck.arch, "the checkpoint's architecture");
  const std::size_t n = arch.layers.size();
  if (!want.empty() &&
      std::all_of(want.begin(), want.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    const std::size_t i = want.size() <= 6 ? std::stoul(want) : 0;
    if (i < 1 || i > n)
      throw UsageError("--features " + want + ": the model has layers 1 to " + std::to_string(n));
    return i - 1;
  }
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < n; ++i)
    if (lower(arch.layers[i].text) == lower(want)) hits.push_back(i);
  if (hits.size() == 1) return hits[0];
  std::string list;
  for (std::size_t i = 0; i < n; ++i)
    list += (i ? ", " : "") + std::to_string(i + 1) + " " + arch.layers[i].text;
  throw UsageError("--features " + want + ": " +
                   (hits.empty()
                        ? std::string("no layer is named so")
                        : "names " + std::to_string(hits.size()) + " layers, give its number") +
                   " (layers: " + list + ")");
}

// --features: the layer's activations of every image, printed (one line an
// image) or written as one float32 .npy (-o): N x C for a 1x1 output (GAP,
// FC, FLATTEN), N x C x H x W otherwise.
void run_features(const PredictOptions& o, const Checkpoint& ck, LoadedModel& model) {
  const std::size_t layer = find_layer(o.features, ck);
  const std::vector<int> d = model.layer_shape(layer);
  std::vector<float> all;
  for (const auto& path : o.images) {
    std::vector<float> a;
    try {
      const std::vector<float> x = to_input(read_image(path), ck, path);
      a = model.activations(x.data(), 1, layer);
    } catch (const Error& e) {
      // The array needs every image: one missing is a failure, with no file.
      if (!o.out.empty()) throw;
      std::fflush(stdout);
      std::fprintf(stderr, "convkit: error: %s\n", error_text(e).c_str());
      set_exit_status(1);
      continue;
    }
    if (!o.out.empty()) {
      all.insert(all.end(), a.begin(), a.end());
      continue;
    }
    std::printf("%s:", path.c_str());
    for (float v : a) std::printf(" %.9g", static_cast<double>(v));
    std::printf("\n");
  }
  if (o.out.empty()) return;
  std::vector<std::int64_t> shape = {static_cast<std::int64_t>(o.images.size()), d[0]};
  if (d[1] != 1 || d[2] != 1) shape.insert(shape.end(), {d[1], d[2]});
  std::string bytes = npy_header(shape, NpyType::f4);
  bytes.append(reinterpret_cast<const char*>(all.data()), all.size() * sizeof(float));
  write_file_atomic(o.out, bytes);
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? "x" : "") + std::to_string(shape[i]);
  std::printf("wrote %s: layer %zu (%s), %s float32\n", o.out.c_str(), layer + 1,
              parse_arch(ck.arch).layers[layer].text.c_str(), dims.c_str());
}

void run_predict(const PredictOptions& o) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  if (!o.out.empty() && o.features.empty())
    throw UsageError("-o writes the activations of --features LAYER; give --features");
  if (!o.features.empty() && (o.json || o.tta != "none"))
    throw UsageError("--features prints activations: it takes neither --json nor --tta");
  if (!o.out.empty()) {
    const std::string& f = o.out;
    if (f.size() < 5 || lower(f.substr(f.size() - 4)) != ".npy")
      throw UsageError("-o " + f + ": the activations are written as .npy (use a .npy name)");
    check_outputs({{"-o", o.out}});
  }
  const Checkpoint ck = load_checkpoint(o.model);
  LoadedModel model(ck);
  if (!o.features.empty()) return run_features(o, ck, model);
  const int k = model.classes();
  const int top = std::min(o.top, k);
  bool first = true;
  if (o.json) std::printf("[\n");
  for (const auto& path : o.images) {
    std::vector<double> p;
    try {
      const std::vector<float> x = to_input(read_image(path), ck, path);
      p = model.probabilities(x.data(), 1, o.tta == "flip");
    } catch (const Error& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "convkit: error: %s\n", error_text(e).c_str());
      set_exit_status(1);
      continue;
    }
    std::vector<int> order(k);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
    auto name = [&](int c) {
      return c < static_cast<int>(ck.class_names.size()) ? ck.class_names[c] : std::to_string(c);
    };
    if (o.json) {
      std::printf("%s  {\"file\": %s, \"top\": [", first ? "" : ",\n", json_string(path).c_str());
      for (int i = 0; i < top; ++i)
        std::printf("%s{\"class\": %s, \"index\": %d, \"probability\": %.9g}", i ? ", " : "",
                    json_string(name(order[i])).c_str(), order[i], p[order[i]]);
      std::printf("]}");
    } else {
      std::printf("%s:", path.c_str());
      for (int i = 0; i < top; ++i)
        std::printf("%s %s %.2f%%", i ? "," : "", name(order[i]).c_str(), 100 * p[order[i]]);
      std::printf("\n");
    }
    first = false;
  }
  if (o.json) std::printf("%s]\n", first ? "" : "\n");
}

void register_predict(CLI::App& app) {
  auto o = std::make_shared<PredictOptions>();
  CLI::App* sub = app.add_subcommand(
      "predict", "Top classes, with probabilities, of images under a trained model");
  sub->add_option("-m,--model", o->model, "Checkpoint written by 'convkit train'")->required();
  sub->add_option("IMAGE", o->images, "Images of the model's input size")->required();
  sub->add_option("-k,--top", o->top, "How many classes to show")
      ->check(whole_range(1, 100000))
      ->capture_default_str();
  sub->add_option("--tta", o->tta,
                  "Test-time augmentation: none, or flip (the mean of the class probabilities "
                  "of each image and its mirror image)")
      ->check(CLI::IsMember({"none", "flip"}))
      ->capture_default_str();
  sub->add_flag("--json", o->json, "Print JSON");
  sub->add_option("--features", o->features,
                  "Instead of classes, the activations of this layer: its number as 'convkit "
                  "shape' counts them (1 = first) or its name in the architecture (e.g. GAP)");
  sub->add_option("-o,--output", o->out,
                  "With --features: write them to this .npy (float32, images x C, or images x "
                  "C x H x W for a map) instead of printing them");
  add_threads_option(sub, o->threads);
  add_max_pixels_option(sub, o->max_pixels);
  sub->footer(
      "Examples:\n"
      "  convkit predict -m fm.ckpt shoe.png shirt.png\n"
      "  convkit predict -m fm.ckpt -k 1 --json samples/*.png\n"
      "  convkit predict -m edges.ckpt --features GAP x1.pgm x2.pgm x3.pgm\n"
      "  convkit predict -m fm.ckpt --features 3 -o maps.npy shoe.png shirt.png\n"
      "\n"
      "Colour images are turned grey for a grey model (and grey ones repeated for a colour\n"
      "model); the size must match the model's input. One unreadable image does not stop\n"
      "the others; the exit status is then 1.");
  sub->callback([o] { run_predict(*o); });
}

}  // namespace

CONVKIT_COMMAND(52, register_predict);

}  // namespace convkit::cli
