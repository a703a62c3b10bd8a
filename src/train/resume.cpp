// The resume rules of convkit/train/resume.hpp.
#include "convkit/train/resume.hpp"

#include <algorithm>
#include <filesystem>

#include "convkit/error.hpp"

namespace convkit {

namespace {

namespace fs = std::filesystem;

bool builtin_data(const std::string& spec) {
  return spec == "fashion-mnist" || spec == "synthetic-edges";
}

}  // namespace

std::string stored_path(const std::string& path, bool data) {
  if (path.empty() || (data && builtin_data(path))) return path;
  fs::path p = fs::absolute(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.string();
}

bool same_data(const std::string& a, const std::string& b) {
  if (builtin_data(a) || builtin_data(b)) return a == b;
  std::error_code ea, eb;
  const fs::path pa = fs::weakly_canonical(stored_path(a, true), ea);
  const fs::path pb = fs::weakly_canonical(stored_path(b, true), eb);
  return !ea && !eb && pa == pb;
}

TrainConfig resume_config(const Checkpoint& ck, const ResumeRequest& r) {
  for (const std::string& name : r.given)
    if (std::find(std::begin(kFixedOnResume), std::end(kFixedOnResume), name) !=
        std::end(kFixedOnResume))
      throw UsageError(param(name) + " cannot change on " + param("resume") +
                       ": the run continues with the settings stored in " + r.checkpoint);
  TrainConfig cfg = config_from_checkpoint(ck);
  if (r.epochs) {
    const std::string& s = cfg.schedule;
    if ((s == "cosine" || s == "onecycle" || s == "triangular") && *r.epochs != cfg.epochs)
      throw UsageError(param("epochs") + " cannot change on " + param("resume") + " with the " + s +
                       " schedule: it " + (s == "cosine" ? "decays to 0" : "ends") + " at epoch " +
                       std::to_string(cfg.epochs) + " as planned when " + r.checkpoint +
                       " was started (resume with " + param("epochs") + " " +
                       std::to_string(cfg.epochs) + ", or train anew with the new total)");
    cfg.epochs = *r.epochs;
  }
  if (!r.data.empty() && !same_data(r.data, cfg.data))
    throw UsageError(param("data") + " cannot change on " + param("resume") + ": " + r.checkpoint +
                     " was trained on " + cfg.data + " (to train on other data, start a new run)");
  return cfg;
}

}  // namespace convkit
