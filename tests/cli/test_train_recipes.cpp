// [cli] training recipes through the real binary: label smoothing, Nesterov
// momentum, one-cycle and triangular schedules, a moving average of the
// weights (--ema), and test-time flips in eval and predict.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "convkit/train/checkpoint.hpp"
#include "support/run.hpp"
#include "support/train_runs.hpp"

using convkit::Checkpoint;
using convkit::load_checkpoint;
using convkit::NamedTensor;
using convkit::test::check_same_run;
using convkit::test::run_convkit;
using convkit::test::temp_dir;
using convkit::test::write_file;

namespace {

const std::string kNet = "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3";

// synthetic-edges: 600 training images, 540 after the 10% validation split,
// so batches of 32 make 17 steps an epoch.
constexpr int kSteps = 17;

std::vector<std::string> train_args(const std::string& out, int epochs,
                                    std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {
      "train", "--data",   "synthetic-edges",      "--arch", kNet, "--lr",
      "0.01",  "--epochs", std::to_string(epochs), "-o",     out,  "--threads",
      "2",     "--quiet"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

const NamedTensor& optimizer_tensor(const Checkpoint& c, const std::string& name) {
  for (const auto& t : c.optimizer_tensors)
    if (t.name == name) return t;
  FAIL("no optimizer tensor " << name);
  throw 0;
}

// All model tensors of a checkpoint, end to end (parameters then buffers).
std::vector<float> model_values(const Checkpoint& c) {
  std::vector<float> v;
  for (const auto& t : c.tensors) v.insert(v.end(), t.data.begin(), t.data.end());
  return v;
}

std::string pgm(int w, int h, const std::vector<int>& px) {
  std::string s = "P5\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
  for (int v : px) s += static_cast<char>(v);
  return s;
}

// "name: class p%, ..." with -k of all classes and --json: the probability of
// each class index, from predict's JSON.
std::vector<double> json_probabilities(const std::string& json, int classes) {
  std::vector<double> p(classes, -1);
  for (int c = 0; c < classes; ++c) {
    const std::string key = "\"index\": " + std::to_string(c) + ", \"probability\": ";
    const auto at = json.find(key);
    REQUIRE(at != std::string::npos);
    p[c] = std::stod(json.substr(at + key.size()));
  }
  return p;
}

}  // namespace

TEST_CASE("[cli] train --label-smoothing and --nesterov change the run and are stored") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit(train_args(dir + "/plain.ckpt", 1)).status == 0);
  REQUIRE(run_convkit(train_args(dir + "/ls.ckpt", 1, {"--label-smoothing", "0.1"})).status == 0);
  const Checkpoint plain = load_checkpoint(dir + "/plain.ckpt");
  const Checkpoint ls = load_checkpoint(dir + "/ls.ckpt");
  CHECK(ls.setting("label_smoothing") == "0.1");
  CHECK(model_values(ls) != model_values(plain));

  const std::vector<std::string> sgd = {"--optimizer", "sgd", "--momentum", "0.9"};
  REQUIRE(run_convkit(train_args(dir + "/sgd.ckpt", 1, sgd)).status == 0);
  auto nag = sgd;
  nag.push_back("--nesterov");
  REQUIRE(run_convkit(train_args(dir + "/nag.ckpt", 1, nag)).status == 0);
  const Checkpoint a = load_checkpoint(dir + "/sgd.ckpt");
  const Checkpoint b = load_checkpoint(dir + "/nag.ckpt");
  CHECK(b.setting("nesterov") == "1");
  CHECK(a.setting("nesterov") == "0");
  CHECK(model_values(a) != model_values(b));

  auto adam = run_convkit(train_args(dir + "/x.ckpt", 1, {"--nesterov"}));
  CHECK(adam.status == 2);
  CHECK(adam.err.find("--nesterov") != std::string::npos);
  CHECK(adam.err.find("--optimizer sgd") != std::string::npos);
  auto still = run_convkit(
      train_args(dir + "/x.ckpt", 1, {"--optimizer", "sgd", "--momentum", "0", "--nesterov"}));
  CHECK(still.status == 2);
  CHECK(still.err.find("--nesterov needs --momentum above 0") != std::string::npos);
  auto resumed = run_convkit(
      {"train", "--resume", dir + "/nag.ckpt", "--epochs", "2", "--label-smoothing", "0.2"});
  CHECK(resumed.status == 2);
  CHECK(resumed.err.find("--label-smoothing cannot change on --resume") != std::string::npos);
}

TEST_CASE(
    "[cli] train --schedule onecycle and triangular: the learning rate of each epoch's last step") {
  const std::string dir = temp_dir();
  const double pi = std::acos(-1.0), base = 0.01;
  const int total = 2 * kSteps;
  REQUIRE(run_convkit(train_args(dir + "/t.ckpt", 2, {"--schedule", "triangular"})).status == 0);
  const Checkpoint t = load_checkpoint(dir + "/t.ckpt");
  const int up = total / 5;
  CHECK(t.history[0].lr ==
        doctest::Approx(base * (total - (kSteps - 1)) / (total - up + 1)).epsilon(1e-12));
  CHECK(t.history[1].lr == doctest::Approx(base / (total - up + 1)).epsilon(1e-12));

  REQUIRE(run_convkit(train_args(dir + "/o.ckpt", 2, {"--schedule", "onecycle"})).status == 0);
  const Checkpoint o = load_checkpoint(dir + "/o.ckpt");
  const int rise = 3 * total / 10;
  const double end = base / 25 / 1e4;
  const double f = static_cast<double>(kSteps - 1 - rise) / (total - rise);
  CHECK(o.history[0].lr == doctest::Approx(end + (base - end) * 0.5 * (1 + std::cos(pi * f))));
  CHECK(o.history[1].lr ==
        doctest::Approx(end + (base - end) * 0.5 *
                                  (1 + std::cos(pi * (total - 1.0 - rise) / (total - rise)))));
  // Both are planned over the run: --resume may not move its end.
  auto r = run_convkit({"train", "--resume", dir + "/o.ckpt", "--epochs", "3"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--epochs cannot change on --resume with the onecycle schedule") !=
        std::string::npos);
}

TEST_CASE("[cli] train --ema: the checkpoint's model is the moving average, resume keeps it") {
  const std::string dir = temp_dir();
  // One step an epoch (the whole training part in one batch), so the
  // average after epoch e is d ema(e-1) + (1 - d) w(e), d = min(0.5, (1+e)/(10+e)).
  const std::vector<std::string> extra = {"--ema", "0.5",        "--batch",
                                          "1000",  "--schedule", "constant"};
  REQUIRE(run_convkit(train_args(dir + "/one.ckpt", 1, extra)).status == 0);
  REQUIRE(run_convkit(train_args(dir + "/two.ckpt", 2, extra)).status == 0);
  const Checkpoint one = load_checkpoint(dir + "/one.ckpt");
  const Checkpoint two = load_checkpoint(dir + "/two.ckpt");
  const std::vector<float> ema1 = model_values(one), ema2 = model_values(two);
  const NamedTensor& w2 = optimizer_tensor(two, "trained.params");
  const NamedTensor& b2 = optimizer_tensor(two, "trained.buffers");
  std::vector<float> trained = w2.data;
  trained.insert(trained.end(), b2.data.begin(), b2.data.end());
  REQUIRE(trained.size() == ema2.size());
  const double d = 3.0 / 12.0;
  for (std::size_t i = 0; i < ema2.size(); ++i) {
    CAPTURE(i);
    CHECK(ema2[i] == doctest::Approx(d * ema1[i] + (1 - d) * trained[i]).epsilon(1e-5));
  }
  CHECK(ema2 != trained);

  // Resumed after epoch 2 to 4: bit for bit the run of 4 epochs.
  REQUIRE(run_convkit(train_args(dir + "/four.ckpt", 4, extra)).status == 0);
  auto r = run_convkit({"train", "--resume", dir + "/two.ckpt", "--epochs", "4", "--quiet"});
  REQUIRE(r.status == 0);
  check_same_run(load_checkpoint(dir + "/four.ckpt"), load_checkpoint(dir + "/two.ckpt"));
}

TEST_CASE(
    "[cli] eval and predict --tta flip: the mean of the image's and its mirror's probabilities") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit(train_args(dir + "/m.ckpt", 2)).status == 0);
  // Images that are not mirror-symmetric: a line and a few dots.
  std::vector<std::vector<int>> images;
  for (int k = 0; k < 4; ++k) {
    std::vector<int> px(64, 0);
    for (int i = 0; i < 8; ++i) px[(k % 2 ? i * 8 + (k + 1) : (k + 2) * 8 + i)] = 200;
    px[(3 * k + 1) % 64] = 255;
    px[(5 * k + 7) % 64] = 90;
    images.push_back(px);
  }
  double loss = 0;
  int right = 0;
  for (std::size_t k = 0; k < images.size(); ++k) {
    std::vector<int> mirror(64);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) mirror[y * 8 + x] = images[k][y * 8 + 7 - x];
    const std::string cls = k % 2 ? "vertical" : "horizontal";
    const std::string img = dir + "/set/" + cls + "/" + std::to_string(k) + ".pgm";
    std::filesystem::create_directories(dir + "/set/" + cls);
    write_file(img, pgm(8, 8, images[k]));
    write_file(dir + "/mirror.pgm", pgm(8, 8, mirror));
    auto pa = run_convkit({"predict", "-m", dir + "/m.ckpt", "-k", "3", "--json", img});
    auto pb =
        run_convkit({"predict", "-m", dir + "/m.ckpt", "-k", "3", "--json", dir + "/mirror.pgm"});
    auto pt =
        run_convkit({"predict", "-m", dir + "/m.ckpt", "-k", "3", "--json", "--tta", "flip", img});
    REQUIRE(pa.status == 0);
    REQUIRE(pb.status == 0);
    REQUIRE(pt.status == 0);
    const auto a = json_probabilities(pa.out, 3), b = json_probabilities(pb.out, 3),
               t = json_probabilities(pt.out, 3);
    int best = 0;
    for (int c = 0; c < 3; ++c) {
      CHECK(t[c] == doctest::Approx((a[c] + b[c]) / 2).epsilon(1e-6));
      if (t[c] > t[best]) best = c;
    }
    const int label = k % 2 ? 1 : 0;  // horizontal, vertical, none
    right += best == label;
    loss -= std::log(t[label]);
  }
  auto e = run_convkit(
      {"eval", "-m", dir + "/m.ckpt", "--data", dir + "/set", "--json", "--tta", "flip"});
  REQUIRE(e.status == 0);
  const auto acc = e.out.find("\"accuracy\": ");
  REQUIRE(acc != std::string::npos);
  CHECK(std::stod(e.out.substr(acc + 12)) == doctest::Approx(right / 4.0));
  const auto lo = e.out.find("\"loss\": ");
  REQUIRE(lo != std::string::npos);
  CHECK(std::stod(e.out.substr(lo + 8)) == doctest::Approx(loss / 4).epsilon(1e-5));
  auto bad = run_convkit({"eval", "-m", dir + "/m.ckpt", "--tta", "crop"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--tta") != std::string::npos);
}

TEST_CASE("[cli] train reports its peak memory in every epoch's summary") {
  const std::string dir = temp_dir();
  auto r = run_convkit(train_args(dir + "/m.ckpt", 2));
  REQUIRE(r.status == 0);
  std::size_t at = 0;
  int lines = 0;
  while ((at = r.out.find("img/s  peak memory ", at)) != std::string::npos) {
    at += 19;
    const double mib = std::stod(r.out.substr(at));
    // The binary and its libraries alone take a few MiB; 600 8x8 images little more.
    CHECK(mib >= 1);
    CHECK(mib < 4096);
    CHECK(r.out.compare(r.out.find(' ', at), 5, " MiB\n") == 0);
    ++lines;
  }
  CHECK(lines == 2);
}

TEST_CASE("[cli] train with no flags: --lr auto, and the seed's 3(f) network learns perfectly") {
  const std::string dir = temp_dir();
  for (const char* seed : {"1", "2", "3"}) {
    CAPTURE(seed);
    const std::string out = dir + "/s" + seed + ".ckpt";
    auto r = run_convkit({"train", "--data", "synthetic-edges", "--arch", kNet, "-o", out, "--seed",
                          seed, "--quiet"});
    REQUIRE(r.status == 0);
    const auto at = r.out.find("; training with lr ");
    REQUIRE(at != std::string::npos);
    CHECK(r.out.find("\n--lr auto: range test of ") != std::string::npos);
    const Checkpoint c = load_checkpoint(out);
    CHECK(c.setting("lr_auto") == "1");
    CHECK(std::stod(c.setting("lr")) ==
          doctest::Approx(std::stod(r.out.substr(at + 19))).epsilon(0.002));
    CHECK(c.epoch == 10);
    CHECK(c.history.back().val_acc == 1.0);
  }
  // A resumed run keeps the rate found (no second test) and ends where an
  // uninterrupted one does.
  const std::vector<std::string> constant = {"--schedule", "constant"};
  auto full = train_args(dir + "/full.ckpt", 3, constant);
  auto part = train_args(dir + "/part.ckpt", 2, constant);
  for (auto* a : {&full, &part}) {
    auto lr = std::find(a->begin(), a->end(), "--lr");
    a->erase(lr, lr + 2);
  }
  REQUIRE(run_convkit(full).status == 0);
  REQUIRE(run_convkit(part).status == 0);
  auto r = run_convkit({"train", "--resume", dir + "/part.ckpt", "--epochs", "3", "--quiet"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("range test") == std::string::npos);
  check_same_run(load_checkpoint(dir + "/full.ckpt"), load_checkpoint(dir + "/part.ckpt"));
  auto bad = run_convkit(train_args(dir + "/x.ckpt", 1, {"--lr", "fast"}));
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--lr") != std::string::npos);
  CHECK(bad.err.find("or auto") != std::string::npos);
}
