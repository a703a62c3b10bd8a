// [train] the checkpoint format: round trip, and refusal of truncated,
// corrupt, foreign or lying files; the metrics log.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstring>
#include <string>

#include "convkit/error.hpp"
#include "convkit/train/checkpoint.hpp"
#include "convkit/train/progress.hpp"
#include "support/run.hpp"

using namespace convkit;

namespace {

Checkpoint sample() {
  Checkpoint c;
  c.arch = "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3";
  c.in_channels = 1;
  c.in_height = 8;
  c.in_width = 8;
  c.epoch = 4;
  c.class_names = {"horizontal", "vertical", "none"};
  c.norm_mean = {0.25f};
  c.norm_std = {0.5f};
  c.optimizer = "adam";
  c.optimizer_scalars = {{"step", 120}, {"beta1", 0.9}};
  c.tensors = {{"conv1.weight", {3, 1, 2, 2}, std::vector<float>(12)},
               {"fc.bias", {3}, {0.5f, -1.25f, 3e-8f}}};
  for (int i = 0; i < 12; ++i) c.tensors[0].data[i] = 0.1f * i - 0.3f;
  c.optimizer_tensors = {{"m.fc.bias", {3}, {1, 2, 3}}};
  c.rng_state = {1, 2, 0xffffffffffffffffULL, 42};
  EpochMetrics m;
  m.epoch = 1;
  m.train_loss = 1.0986;
  m.train_acc = 0.5;
  m.val_loss = 0.75;
  m.val_acc = 2.0 / 3.0;
  m.lr = 1e-3;
  m.seconds = 0.25;
  m.images_per_second = 4000;
  c.history = {m, m};
  c.history[1].epoch = 2;
  c.settings = {{"data", "synthetic-edges"}, {"batch", "32"}};
  return c;
}

std::string error_of(const std::string& bytes) {
  try {
    parse_checkpoint(bytes, "m.ckpt");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Rewrite the CRC after tampering with the payload, to get past the checksum.
void fix_crc(std::string& b) {
  const std::size_t n = b.size() - 24;
  const auto crc =
      static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(b.data() + 20), n));
  std::memcpy(b.data() + b.size() - 4, &crc, 4);
}

}  // namespace

TEST_CASE("[train] a checkpoint round-trips every field exactly") {
  const Checkpoint c = sample();
  const std::string dir = test::temp_dir();
  save_checkpoint(dir + "/m.ckpt", c);
  const Checkpoint r = load_checkpoint(dir + "/m.ckpt");
  CHECK(r.arch == c.arch);
  CHECK(r.in_channels == 1);
  CHECK(r.in_height == 8);
  CHECK(r.in_width == 8);
  CHECK(r.epoch == 4);
  CHECK(r.class_names == c.class_names);
  CHECK(r.norm_mean == c.norm_mean);
  CHECK(r.norm_std == c.norm_std);
  CHECK(r.optimizer == "adam");
  CHECK(r.optimizer_scalars == c.optimizer_scalars);
  REQUIRE(r.tensors.size() == 2);
  CHECK(r.tensors[0].shape == c.tensors[0].shape);
  CHECK(r.tensors[0].data == c.tensors[0].data);
  CHECK(r.find("fc.bias")->data == c.tensors[1].data);
  CHECK(r.optimizer_tensors[0].data == c.optimizer_tensors[0].data);
  CHECK(r.rng_state == c.rng_state);
  REQUIRE(r.history.size() == 2);
  CHECK(r.history[1].epoch == 2);
  CHECK(r.history[0].val_acc == c.history[0].val_acc);
  CHECK(r.setting("batch") == "32");
  CHECK(r.setting("missing", "x") == "x");
  CHECK(serialize_checkpoint(r) == serialize_checkpoint(c));
}

TEST_CASE("[train] truncated, corrupt and foreign checkpoints are refused") {
  const std::string good = serialize_checkpoint(sample());
  REQUIRE(error_of(good).empty());
  SUBCASE("every truncation") {
    for (std::size_t n = 0; n < good.size(); n += 7) {
      CAPTURE(n);
      CHECK(!error_of(good.substr(0, n)).empty());
    }
    CHECK(error_of(good.substr(0, good.size() - 1)).find("truncated") != std::string::npos);
  }
  SUBCASE("one flipped bit anywhere in the payload") {
    for (std::size_t i = 20; i < good.size() - 4; i += 13) {
      std::string b = good;
      b[i] = char(b[i] ^ 0x10);
      CHECK(error_of(b).find("checksum") != std::string::npos);
    }
  }
  SUBCASE("not a checkpoint") {
    CHECK(error_of("P5\n2 2\n255\nabcd").find("not a convkit checkpoint") != std::string::npos);
  }
  SUBCASE("a newer version") {
    std::string b = good;
    b[8] = 9;
    CHECK(error_of(b).find("version 9") != std::string::npos);
  }
  SUBCASE("a count that exceeds the file, with a valid checksum") {
    // The first payload field is the architecture's length.
    std::string b = good;
    const std::uint32_t huge = 0x7fffffff;
    std::memcpy(b.data() + 20, &huge, 4);
    fix_crc(b);
    const std::string e = error_of(b);
    CHECK(e.find("m.ckpt: byte 20") == 0);
  }
  SUBCASE("a tensor dimension that exceeds the file, with a valid checksum") {
    std::string b = good;
    const std::string name = "conv1.weight";
    const std::size_t at = b.find(name) + name.size() + 4;  // after the rank
    const std::int64_t huge = std::int64_t(1) << 40;
    std::memcpy(b.data() + at, &huge, 8);
    fix_crc(b);
    CHECK(error_of(b).find("exceeds the file") != std::string::npos);
  }
  SUBCASE("a missing file") {
    CHECK_THROWS_WITH_AS(load_checkpoint("/no/such.ckpt"), doctest::Contains("/no/such.ckpt"),
                         Error);
  }
}

TEST_CASE(
    "[train] a directory or a device given as a checkpoint is named as such, not as missing") {
  const std::string dir = test::temp_dir();
  CHECK_THROWS_WITH_AS(load_checkpoint(dir),
                       (dir + ": is a directory, not a checkpoint file").c_str(), Error);
  CHECK_THROWS_WITH_AS(
      load_checkpoint("/dev/zero"),
      "/dev/zero: not a regular file (a device, pipe or socket), not a checkpoint file", Error);
  CHECK_THROWS_WITH_AS(load_checkpoint(dir + "/none.ckpt"),
                       (dir + "/none.ckpt: no such checkpoint file").c_str(), Error);
}

TEST_CASE("[train] the metrics log is CSV or JSON by extension, values exact") {
  const std::string dir = test::temp_dir();
  auto h = sample().history;
  write_metrics_log(dir + "/m.csv", h);
  const std::string csv = test::read_file(dir + "/m.csv");
  CHECK(csv.rfind("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,images_per_second\n",
                  0) == 0);
  CHECK(csv.find("\n2,1.0986,0.5,0.75,0.6666666666666666,0.001,0.25,4000\n") != std::string::npos);
  write_metrics_log(dir + "/m.json", h);
  const std::string json = test::read_file(dir + "/m.json");
  CHECK(json.find("{\"epoch\": 1, \"train_loss\": 1.0986") != std::string::npos);
  CHECK(json.front() == '[');
  const auto s = epoch_summary(h[0], 5, true);
  CHECK(s.rfind("epoch 1/5  train loss 1.0986 acc 50.00%  val loss 0.7500 acc 66.67%", 0) == 0);
}
