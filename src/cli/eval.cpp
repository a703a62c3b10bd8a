// convkit eval: accuracy, per-class accuracy and confusion matrix of a saved
// model on a data set.
#include <cstdio>

#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"
#include "convkit/io/text.hpp"
#include "convkit/train/trainer.hpp"

namespace convkit::cli {

namespace {

struct EvalOptions {
  std::string model, data, split = "test", tta = "none";
  int batch = 256, threads = 0;
  long long max_pixels = 0;
  bool json = false;
};

std::string fmt(const char* f, double v) {
  char b[40];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

void run_eval(const EvalOptions& o) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  const Checkpoint ck = load_checkpoint(o.model);
  const std::string data = o.data.empty() ? ck.setting("data") : o.data;
  if (data.empty()) throw UsageError("--data is required (the checkpoint does not name its data)");
  const bool test = o.split == "test";
  DataSource src = open_dataset(data, !test, test);
  for (const auto& w : src.warnings) std::fprintf(stderr, "convkit: warning: %s\n", w.c_str());
  Dataset d = std::move(test ? src.test : src.train);
  // What is scored, in words: a folder without train/ and test/ has one part.
  const std::string part = src.single_part ? "all images of the folder, which has no train/ "
                                             "and test/ split"
                                           : o.split + " part";
  if (d.size() == 0) throw Error(src.name + ": the " + part + " is empty");
  // Classes are matched by name: the data may lack some of the model's classes
  // or list them in another order, but may not bring classes the model lacks.
  check_input_size(ck, d);
  const std::vector<std::string> absent = relabel_classes(d, ck.class_names, src.name, o.model);
  if (!absent.empty()) {
    std::string list;
    for (std::size_t i = 0; i < absent.size(); ++i) list += (i ? ", " : "") + absent[i];
    std::fprintf(stderr, "convkit: note: %s has no images of %zu of the model's %zu classes: %s\n",
                 src.name.c_str(), absent.size(), ck.class_names.size(), list.c_str());
  }
  const EvalResult r = evaluate_model(ck, d, o.batch, o.tta == "flip");
  const std::size_t k = r.confusion.size();
  std::vector<std::int64_t> total(k, 0);
  for (std::size_t t = 0; t < k; ++t)
    for (auto v : r.confusion[t]) total[t] += v;
  auto class_acc = [&](std::size_t t) {
    return total[t] ? static_cast<double>(r.confusion[t][t]) / static_cast<double>(total[t]) : 0.0;
  };
  const std::string split = src.single_part ? "all" : o.split;
  if (o.json) {
    std::printf("{\n  \"model\": %s,\n  \"data\": %s,\n  \"split\": %s,\n  \"images\": %zu,\n",
                json_string(o.model).c_str(), json_string(src.name).c_str(),
                json_string(split).c_str(), r.count);
    std::printf("  \"accuracy\": %.17g,\n  \"loss\": %.17g,\n  \"classes\": [\n", r.accuracy,
                r.loss);
    for (std::size_t t = 0; t < k; ++t)
      std::printf("    {\"name\": %s, \"images\": %lld, \"accuracy\": %s}%s\n",
                  json_string(r.class_names[t]).c_str(), static_cast<long long>(total[t]),
                  total[t] ? fmt("%.17g", class_acc(t)).c_str() : "null", t + 1 < k ? "," : "");
    std::printf("  ],\n  \"confusion\": [\n");
    for (std::size_t t = 0; t < k; ++t) {
      std::printf("    [");
      for (std::size_t p = 0; p < k; ++p)
        std::printf("%s%lld", p ? ", " : "", static_cast<long long>(r.confusion[t][p]));
      std::printf("]%s\n", t + 1 < k ? "," : "");
    }
    std::printf("  ]\n}\n");
    return;
  }
  std::printf("%s on %s (%s, %zu images): accuracy %.2f%%  loss %.4f\n\n", o.model.c_str(),
              src.name.c_str(), part.c_str(), r.count, 100 * r.accuracy, r.loss);
  std::size_t w = 5;
  for (std::size_t t = 0; t < k; ++t)
    w = std::max(w, r.class_names[t].size() + std::to_string(t).size() + 1);
  std::printf("%-*s  %8s  %6s\n", static_cast<int>(w), "class", "accuracy", "images");
  for (std::size_t t = 0; t < k; ++t)
    std::printf("%-*s  %8s  %6lld\n", static_cast<int>(w),
                (std::to_string(t) + " " + r.class_names[t]).c_str(),
                total[t] ? fmt("%.2f%%", 100 * class_acc(t)).c_str() : "-",
                static_cast<long long>(total[t]));
  std::printf("\nconfusion matrix (rows: true class, columns: predicted class)\n");
  std::printf("%-*s", static_cast<int>(w), "");
  for (std::size_t p = 0; p < k; ++p) std::printf(" %6zu", p);
  std::printf("\n");
  for (std::size_t t = 0; t < k; ++t) {
    std::printf("%-*s", static_cast<int>(w), (std::to_string(t) + " " + r.class_names[t]).c_str());
    for (std::size_t p = 0; p < k; ++p)
      std::printf(" %6lld", static_cast<long long>(r.confusion[t][p]));
    std::printf("\n");
  }
}

void register_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* sub = app.add_subcommand(
      "eval", "Accuracy, per-class accuracy and confusion matrix of a trained model");
  sub->add_option("-m,--model", o->model, "Checkpoint written by 'convkit train'")->required();
  sub->add_option("--data", o->data, "Data set (default: the one the model was trained on)");
  sub->add_option("--split", o->split,
                  "Which part: test or train (a folder without train/ and test/ has one part: "
                  "all its images, whichever is asked)")
      ->check(CLI::IsMember({"test", "train"}))
      ->capture_default_str();
  sub->add_option("--batch", o->batch, "Images per forward pass")
      ->check(whole_range(1, 65536))
      ->capture_default_str();
  sub->add_option("--tta", o->tta,
                  "Test-time augmentation: none, or flip (the mean of the class probabilities "
                  "of each image and its mirror image)")
      ->check(CLI::IsMember({"none", "flip"}))
      ->capture_default_str();
  sub->add_flag("--json", o->json, "Print JSON");
  add_threads_option(sub, o->threads);
  add_max_pixels_option(sub, o->max_pixels);
  sub->footer(
      "Examples:\n"
      "  convkit eval -m fm.ckpt                      # on the test part of its data\n"
      "  convkit eval -m fm.ckpt --data fashion-mnist --json > eval.json\n"
      "  convkit eval -m edges.ckpt --data synthetic-edges --split train\n"
      "\n"
      "Classes are matched with the model's by name: the data may lack some of them (a note\n"
      "names them; their rows stay empty) or list them in another order, but images of a\n"
      "class the model does not know are refused. Data without class names (IDX without\n"
      "classes.txt) is matched by class number.");
  sub->callback([o] { run_eval(*o); });
}

}  // namespace

CONVKIT_COMMAND(51, register_eval);

}  // namespace convkit::cli
