// [train] the resume rules (convkit/train/resume.hpp): a checkpoint's
// settings come back, only the total of epochs may change (not under a
// schedule planned over the whole run), and the data must be the same.
#include <doctest/doctest.h>

#include "convkit/error.hpp"
#include "convkit/train/resume.hpp"

using namespace convkit;

namespace {
Checkpoint checkpoint(const std::string& schedule) {
  Checkpoint ck;
  ck.arch = "CONV3-4 FLATTEN FC-2";
  ck.epoch = 2;
  ck.settings = {{"data", "synthetic-edges"},
                 {"batch", "16"},
                 {"epochs", "5"},
                 {"schedule", schedule},
                 {"lr", "0.01"}};
  return ck;
}
}  // namespace

TEST_CASE("[train] resume_config keeps the checkpoint's settings and takes a new total") {
  ResumeRequest r{"run.ckpt"};
  TrainConfig cfg = resume_config(checkpoint("step"), r);
  CHECK(cfg.batch == 16);
  CHECK(cfg.epochs == 5);
  CHECK(cfg.lr == 0.01);
  r.epochs = 9;
  r.data = "synthetic-edges";
  r.given = {"epochs", "quiet", "log"};  // not fixed by the checkpoint
  CHECK(resume_config(checkpoint("step"), r).epochs == 9);
}

TEST_CASE("[train] resume_config refuses fixed settings, a moved planned end and other data") {
  ResumeRequest r{"run.ckpt"};
  r.given = {"label_smoothing"};
  CHECK_THROWS_WITH_AS(
      resume_config(checkpoint("step"), r),
      "label_smoothing cannot change on resume: the run continues with the settings stored in "
      "run.ckpt",
      UsageError);
  r.given.clear();
  r.epochs = 7;
  CHECK_THROWS_WITH_AS(resume_config(checkpoint("cosine"), r),
                       "epochs cannot change on resume with the cosine schedule: it decays to 0 "
                       "at epoch 5 as planned when run.ckpt was started (resume with epochs 5, "
                       "or train anew with the new total)",
                       UsageError);
  r.epochs = 5;  // the planned total is fine
  CHECK(resume_config(checkpoint("onecycle"), r).epochs == 5);
  r.data = "fashion-mnist";
  CHECK_THROWS_WITH_AS(resume_config(checkpoint("step"), r),
                       "data cannot change on resume: run.ckpt was trained on synthetic-edges "
                       "(to train on other data, start a new run)",
                       UsageError);
}

TEST_CASE("[train] data paths are stored absolute, built-in names stay names") {
  CHECK(stored_path("synthetic-edges", true) == "synthetic-edges");
  CHECK(stored_path("", false).empty());
  const std::string abs = stored_path("some/dir/", true);
  CHECK(abs.front() == '/');
  CHECK(abs.ends_with("some/dir"));
  CHECK(same_data("some/dir", abs));
  CHECK(same_data("./some/../some/dir", "some/dir"));
  CHECK_FALSE(same_data("synthetic-edges", "fashion-mnist"));
  CHECK_FALSE(same_data("some/dir", "synthetic-edges"));
}
