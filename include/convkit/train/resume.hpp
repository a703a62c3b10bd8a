// convkit/train/resume.hpp — the rules for continuing a training run from its
// checkpoint: the run keeps the settings it was planned with, only the total
// of epochs may grow or shrink, and the data must be the same.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "convkit/train/checkpoint.hpp"
#include "convkit/train/trainer.hpp"

namespace convkit {

/// A path as a checkpoint stores it: absolute and normal, so that a resume
/// works from any directory.  Empty stays empty; with `data`, the built-in
/// data sets (fashion-mnist, synthetic-edges) stay names.
std::string stored_path(const std::string& path, bool data);

/// Whether two data set names (paths or built-in names) are the same data.
bool same_data(const std::string& a, const std::string& b);

/// The TrainConfig fields a checkpoint fixes: a resumed run cannot give them anew.
inline constexpr std::string_view kFixedOnResume[] = {
    "arch",         "batch",           "lr",      "optimizer",   "momentum",
    "weight_decay", "schedule",        "gamma",   "step_epochs", "warmup_epochs",
    "seed",         "val_split",       "augment", "init",        "micro_batch",
    "nesterov",     "label_smoothing", "ema",     "precision"};

/// What a resumed run asks for besides its checkpoint.
struct ResumeRequest {
  std::string checkpoint;          ///< the checkpoint's path, for messages
  std::optional<int> epochs;       ///< a new total of epochs
  std::string data;                ///< empty, or the data set named again
  std::vector<std::string> given;  ///< the TrainConfig fields given anew
};

/// The checkpoint's settings with the request applied.  UsageError naming the
/// parameter for a fixed field given anew, a new total of epochs under a
/// schedule planned over the whole run (cosine, onecycle, triangular: moving
/// its end would change the rates of the epochs already done), or other data.
TrainConfig resume_config(const Checkpoint& ck, const ResumeRequest& request);

}  // namespace convkit
