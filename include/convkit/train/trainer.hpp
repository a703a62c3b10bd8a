// convkit/train/trainer.hpp — training, evaluating and applying a CNN given
// in the architecture language, on a DataSource.
//
// Reproducibility: every random stream of epoch e (the shuffle, augmentation
// and dropout masks) is derived from (seed, e) alone, the weights from the
// seed, and the model's arithmetic does not depend on how work is split
// across threads of a given count.  A run resumed from the checkpoint of
// epoch e therefore continues bit for bit like the uninterrupted run.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "convkit/data/dataset.hpp"
#include "convkit/train/checkpoint.hpp"
#include "convkit/train/distributed.hpp"
#include "convkit/train/progress.hpp"

namespace convkit {

struct TrainConfig {
  std::string arch;  ///< SPEC text
  std::string data;  ///< data source as given (stored in the checkpoint)
  int epochs = 10;   ///< total, counting epochs done before a resume
  // Defaults chosen on Fashion-MNIST (README "Choosing the defaults"): the
  // seed's network reaches 88-89% test accuracy in 3 epochs with them.
  // `convkit train` sets lr_auto unless --lr gives a number.
  int batch = 32;
  double lr = 2e-3;
  /// Choose lr by a learning-rate range test before the first epoch (see
  /// find_learning_rate); the rate found is what the checkpoint stores.
  bool lr_auto = false;
  std::string optimizer = "adam";  ///< sgd, adam, adamw
  double momentum = 0.9;           ///< sgd only
  double weight_decay = 0.0;
  bool nesterov = false;         ///< sgd only, with momentum > 0
  double label_smoothing = 0.0;  ///< in [0, 1)
  /// Exponential moving average of the weights (0: off).  After every step
  /// ema = d ema + (1 - d) w with d = min(ema, (1 + t) / (10 + t)) at step t;
  /// validation, eval and predict use the averaged weights (and averaged
  /// batchnorm statistics), which the checkpoint stores as its model, the
  /// trained weights beside the optimizer state for --resume.
  double ema = 0.0;
  std::string schedule = "cosine";  ///< constant, step, cosine, onecycle, triangular
  double gamma = 0.1;               ///< step schedule: factor per step_epochs
  int step_epochs = 10;             ///< step schedule
  int warmup_epochs = 0;
  std::uint64_t seed = 1;
  std::string init = "he";  ///< he, xavier, uniform (see nn::Init)
  double val_split = 0.1;
  Augment augment;
  /// Where the metrics log and the curves go (empty: nowhere), stored in the
  /// checkpoint so that --resume keeps writing them.
  std::string log, plot;
  /// Images per micro-group: a batch is cut into groups of this many images
  /// (the last one takes the rest), each group's gradient is computed on its
  /// own (batchnorm statistics per group, dropout masks from (seed, epoch,
  /// batch, group)) and the groups' gradients are summed in group order, so
  /// the result does not depend on how many processes share a batch.
  /// 0: the whole batch is one group (checkpoints from before it existed).
  int micro_batch = 16;
  /// "fp32" or "bf16": the precision of the convolution and fully connected
  /// layers' matrix products in the training steps (see MatmulPrecision in
  /// convkit/engine_nn.hpp); the weights, their gradients and the optimizer
  /// stay float32.  Validation, like eval and predict, computes in fp32.
  std::string precision = "fp32";
};

/// A learning-rate range test (as fastai's lr_find, after L. Smith, "Cyclical
/// Learning Rates for Training Neural Networks", 2017): from the initial
/// weights, `steps` mini-batches of the training part (a shuffle of its own,
/// drawn from (seed, 0); no augmentation) with the rate growing geometrically
/// from `from` to `to`; the loss is smoothed (exponential average, 0.9,
/// bias-corrected) and the test stops early once it exceeds 4x its lowest
/// value or is not finite.  Two classic readings of the curve: the rate at
/// the lowest smoothed loss divided by 10, and the rate where the smoothed
/// loss falls fastest (over 5 steps).  The rate chosen is half the smaller of
/// the two, kept within [1e-5, 1] (README "Choosing the defaults": the
/// factor was set on synthetic-edges and Fashion-MNIST).
struct LrFinding {
  int steps = 0;                ///< steps taken (up to 100)
  double from = 1e-6, to = 10;  ///< the range tried
  double at_min = 0;            ///< the rate at the lowest smoothed loss
  double steepest = 0;          ///< the rate where it falls fastest
  double chosen = 0;            ///< min(steepest, at_min / 10) / 2, within [1e-5, 1]
};

/// Time in the gradient exchange (the collective; waiting for the slowest
/// rank included), steps, and bytes received by a rank.
struct CommStats {
  double seconds = 0;
  std::int64_t steps = 0;
  double bytes = 0;
};

/// Everything a run reports back, and the hooks it calls.
struct TrainHooks {
  Progress* progress = nullptr;                       ///< may be null
  std::function<void(const EpochMetrics&)> on_epoch;  ///< after the checkpoint is saved
  const std::atomic<bool>* stop = nullptr;            ///< checked after every batch
  /// The processes sharing every batch (dist::world() under mpirun or srun);
  /// null: this process alone.  Every rank must call train_model with the
  /// same arguments; only rank 0 writes the checkpoint and the log, reports
  /// progress and calls on_epoch.  A stop requested on any rank stops all of
  /// them after the same batch.
  const dist::Group* group = nullptr;
  /// When not null, the gradient exchange of every step is added here.
  CommStats* comm = nullptr;
  /// Called (on rank 0) with the result of the range test of cfg.lr_auto.
  std::function<void(const LrFinding&)> on_lr_found;
};

/// Thrown by train() when *hooks.stop became true: the current epoch is
/// abandoned and the last checkpoint written stays as it was.
struct TrainInterrupted {
  int epoch_in_progress = 0;
  int last_saved_epoch = 0;  ///< 0 when no checkpoint was written yet
};

/// The training settings recorded in a checkpoint, back as a config.
TrainConfig config_from_checkpoint(const Checkpoint& c);

/// Train from scratch (resume == nullptr) or continue a checkpoint, writing
/// `checkpoint_path` atomically after every epoch (and `log_path` when not
/// empty).  Returns the final checkpoint.  The training data is source.train
/// minus a seeded validation split of cfg.val_split.
Checkpoint train_model(const TrainConfig& cfg, const DataSource& source, const Checkpoint* resume,
                       const std::string& checkpoint_path, const std::string& log_path,
                       const TrainHooks& hooks);

/// Evaluation of a saved model on a data set.
struct EvalResult {
  std::size_t count = 0;
  double loss = 0, accuracy = 0;
  std::vector<std::string> class_names;
  std::vector<std::vector<std::int64_t>> confusion;  ///< [true][predicted]
};
/// Throws convkit::Error when the data's images are not the model's input size.
void check_input_size(const Checkpoint& model, const Dataset& data);
/// tta_flip: test-time augmentation, every image's class probabilities are the
/// mean of those of the image and of its mirror image (left-right); the loss
/// is then -log of the mean probability of the true class.
EvalResult evaluate_model(const Checkpoint& model, const Dataset& data, int batch = 256,
                          bool tta_flip = false);

/// A saved model ready for inference (weights restored, eval mode).
class LoadedModel {
 public:
  /// Throws convkit::Error when the checkpoint's tensors do not fit its architecture.
  explicit LoadedModel(const Checkpoint& c);
  ~LoadedModel();
  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;
  int classes() const;
  /// Class probabilities of n images in the data's units (N x C x H x W;
  /// normalized here with the checkpoint's statistics): n x classes().
  /// tta_flip: the mean of the probabilities of each image and its mirror image.
  std::vector<double> probabilities(const float* images, int n, bool tta_flip = false);
  /// Number of layers (as the architecture lists them).
  std::size_t layers() const;
  /// Per-image output shape of layer i (0-based): channels, height, width.
  std::vector<int> layer_shape(std::size_t i) const;
  /// The activations of layer i (0-based) for n images in the data's units,
  /// as probabilities() takes them: n x (channels x height x width), in eval mode.
  std::vector<float> activations(const float* images, int n, std::size_t i);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace convkit
