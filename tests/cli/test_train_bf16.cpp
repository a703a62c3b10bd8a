// [cli] train --precision bf16 through the real binary: it learns as fp32
// does, is bit-reproducible at any thread count, resumes in bf16, and is
// refused (status 2) where the CPU lacks AVX512_BF16, which
// CONVKIT_DISABLE_BF16 stands for; eval of its checkpoint stays fp32.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "convkit/engine_nn.hpp"
#include "convkit/train/checkpoint.hpp"
#include "support/run.hpp"
#include "support/train_runs.hpp"

using convkit::Checkpoint;
using convkit::load_checkpoint;
using convkit::test::check_same_run;
using convkit::test::is_one_error_line;
using convkit::test::run_convkit;
using convkit::test::RunResult;
using convkit::test::temp_dir;

namespace {

std::vector<std::string> bf16_args(const std::string& out, int epochs, const std::string& precision,
                                   const std::vector<std::string>& extra = {},
                                   const std::string& threads = "2") {
  const std::string net = "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3";
  std::vector<std::string> a = {"train", "--data", "synthetic-edges", "--arch", net,
                                "--lr",  "0.01"};
  a.insert(a.end(), {"--epochs", std::to_string(epochs), "-o", out, "--threads", threads});
  a.insert(a.end(), {"--quiet", "--precision", precision});
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

bool bf16_here() {
  if (convkit::matmul_precision_available(convkit::MatmulPrecision::bf16)) return true;
  std::puts("CONVKIT-TEST-SKIPPED: this CPU has no AVX512_BF16");
  return false;
}

// Runs convkit as on a CPU without AVX512_BF16.
RunResult run_without_bf16(const std::vector<std::string>& args) {
  setenv("CONVKIT_DISABLE_BF16", "1", 1);
  RunResult r = run_convkit(args);
  unsetenv("CONVKIT_DISABLE_BF16");
  return r;
}

}  // namespace

TEST_CASE("[cli] train --precision bf16 learns synthetic-edges as fp32 does") {
  if (!bf16_here()) return;
  const std::string dir = temp_dir();
  REQUIRE(run_convkit(bf16_args(dir + "/fp32.ckpt", 12, "fp32")).status == 0);
  REQUIRE(run_convkit(bf16_args(dir + "/bf16.ckpt", 12, "bf16")).status == 0);
  const Checkpoint f = load_checkpoint(dir + "/fp32.ckpt");
  const Checkpoint b = load_checkpoint(dir + "/bf16.ckpt");
  CHECK(b.setting("precision") == "bf16");
  CHECK(f.setting("precision") == "fp32");
  // Other weights (bf16 products), the same accuracy.
  CHECK(b.tensors[0].data != f.tensors[0].data);
  CHECK(f.history.back().val_acc == 1.0);
  CHECK(b.history.back().val_acc == 1.0);
  auto e = run_convkit({"eval", "-m", dir + "/bf16.ckpt", "--json"});
  REQUIRE(e.status == 0);
  CHECK(e.out.find("\"accuracy\": 1,") != std::string::npos);
}

TEST_CASE(
    "[cli] train --precision bf16 is bit-reproducible at any thread count and resumes in bf16") {
  if (!bf16_here()) return;
  const std::string dir = temp_dir();
  // A step schedule does not depend on the planned epochs: 2 epochs resumed
  // to 3 must equal 3 at once.
  const std::vector<std::string> step = {"--schedule", "step", "--step-epochs", "2"};
  REQUIRE(run_convkit(bf16_args(dir + "/a.ckpt", 3, "bf16", step)).status == 0);
  REQUIRE(run_convkit(bf16_args(dir + "/b.ckpt", 3, "bf16", step)).status == 0);
  REQUIRE(run_convkit(bf16_args(dir + "/one.ckpt", 3, "bf16", step, "1")).status == 0);
  REQUIRE(run_convkit(bf16_args(dir + "/part.ckpt", 2, "bf16", step)).status == 0);
  auto r = run_convkit({"train", "--resume", dir + "/part.ckpt", "--epochs", "3", "--quiet"});
  REQUIRE(r.status == 0);
  const Checkpoint a = load_checkpoint(dir + "/a.ckpt");
  check_same_run(a, load_checkpoint(dir + "/b.ckpt"));
  check_same_run(a, load_checkpoint(dir + "/one.ckpt"));
  check_same_run(a, load_checkpoint(dir + "/part.ckpt"));
  CHECK(load_checkpoint(dir + "/part.ckpt").setting("precision") == "bf16");
  // The precision is the run's: it cannot change on --resume.
  auto change = run_convkit(
      {"train", "--resume", dir + "/part.ckpt", "--epochs", "4", "--precision", "fp32"});
  CHECK(change.status == 2);
  CHECK(change.err.find("--precision cannot change on --resume") != std::string::npos);
}

TEST_CASE("[cli] train refuses --precision bf16 without AVX512_BF16; eval stays fp32") {
  const std::string dir = temp_dir();
  auto r = run_without_bf16(bf16_args(dir + "/m.ckpt", 1, "bf16"));
  CHECK(r.status == 2);
  CHECK(is_one_error_line(r));
  CHECK(r.err.find("--precision bf16 needs a CPU with the AVX512_BF16") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/m.ckpt"));
  auto unknown = run_convkit(bf16_args(dir + "/m.ckpt", 1, "fp16"));
  CHECK(unknown.status == 2);
  CHECK(unknown.err.find("--precision") != std::string::npos);
  // fp32 needs nothing of the CPU.
  REQUIRE(run_without_bf16(bf16_args(dir + "/f.ckpt", 1, "fp32")).status == 0);
  if (!bf16_here()) return;
  REQUIRE(run_convkit(bf16_args(dir + "/m.ckpt", 1, "bf16", {"--schedule", "step"})).status == 0);
  // Resuming a bf16 run needs the instructions too.
  auto resume = run_without_bf16({"train", "--resume", dir + "/m.ckpt", "--epochs", "2"});
  CHECK(resume.status == 2);
  CHECK(is_one_error_line(resume));
  CHECK(resume.err.find(dir + "/m.ckpt was trained with --precision bf16") != std::string::npos);
  CHECK(load_checkpoint(dir + "/m.ckpt").epoch == 1);
  // eval computes in fp32 from the float32 weights: the same on any CPU.
  auto here = run_convkit({"eval", "-m", dir + "/m.ckpt", "--json"});
  auto without = run_without_bf16({"eval", "-m", dir + "/m.ckpt", "--json"});
  REQUIRE(here.status == 0);
  CHECK(without.status == 0);
  CHECK(here.out == without.out);
}
