// convkit predict: the top classes of images under a trained model.
#include <algorithm>
#include <cstdio>
#include <numeric>

#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/text.hpp"
#include "convkit/train/trainer.hpp"

namespace convkit::cli {

namespace {

struct PredictOptions {
  std::string model;
  std::vector<std::string> images;
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

void run_predict(const PredictOptions& o) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  const Checkpoint ck = load_checkpoint(o.model);
  LoadedModel model(ck);
  const int k = model.classes();
  const int top = std::min(o.top, k);
  bool first = true;
  if (o.json) std::printf("[\n");
  for (const auto& path : o.images) {
    std::vector<double> p;
    try {
      const std::vector<float> x = to_input(read_image(path), ck, path);
      p = model.probabilities(x.data(), 1);
    } catch (const Error& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "convkit: error: %s\n", e.what());
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
  sub->add_flag("--json", o->json, "Print JSON");
  add_threads_option(sub, o->threads);
  add_max_pixels_option(sub, o->max_pixels);
  sub->footer(
      "Examples:\n"
      "  convkit predict -m fm.ckpt shoe.png shirt.png\n"
      "  convkit predict -m fm.ckpt -k 1 --json samples/*.png\n"
      "\n"
      "Colour images are turned grey for a grey model (and grey ones repeated for a colour\n"
      "model); the size must match the model's input. One unreadable image does not stop\n"
      "the others; the exit status is then 1.");
  sub->callback([o] { run_predict(*o); });
}

}  // namespace

CONVKIT_COMMAND(52, register_predict);

}  // namespace convkit::cli
