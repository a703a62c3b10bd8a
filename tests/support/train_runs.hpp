// tests/support/train_runs.hpp — comparing training runs through their
// checkpoints, and waiting for a running `train` to write one.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "convkit/train/checkpoint.hpp"

namespace convkit::test {

/// Weights, optimizer state and every non-timing metric must agree exactly.
inline void check_same_run(const Checkpoint& a, const Checkpoint& b) {
  REQUIRE(a.epoch == b.epoch);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    CAPTURE(a.tensors[i].name);
    CHECK(a.tensors[i].data == b.tensors[i].data);
  }
  REQUIRE(a.optimizer_tensors.size() == b.optimizer_tensors.size());
  for (std::size_t i = 0; i < a.optimizer_tensors.size(); ++i)
    CHECK(a.optimizer_tensors[i].data == b.optimizer_tensors[i].data);
  CHECK(a.optimizer_scalars == b.optimizer_scalars);
  REQUIRE(a.history.size() == b.history.size());
  for (std::size_t i = 0; i < a.history.size(); ++i) {
    CHECK(a.history[i].train_loss == b.history[i].train_loss);
    CHECK(a.history[i].train_acc == b.history[i].train_acc);
    CHECK(a.history[i].val_loss == b.history[i].val_loss);
    CHECK(a.history[i].val_acc == b.history[i].val_acc);
    CHECK(a.history[i].lr == b.history[i].lr);
  }
}

/// Wait (up to a minute) until `path` holds at least `epochs` epochs; false
/// if the process `pid` ended first.
inline bool wait_for_checkpoint(const std::string& path, int epochs, pid_t pid) {
  for (int i = 0; i < 6000; ++i) {
    if (std::filesystem::exists(path)) {
      try {
        if (load_checkpoint(path).epoch >= epochs) return true;
      } catch (...) {
      }
    }
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace convkit::test
