// convkit train: train a CNN given in the architecture language on a data
// set, with a checkpoint after every epoch, --resume, and a clean Ctrl-C.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "cli/command.hpp"
#include "cli/outputs.hpp"
#include "cli/validate.hpp"
#include "convkit/arch.hpp"
#include "convkit/engine_nn.hpp"
#include "convkit/error.hpp"
#include "convkit/nn/optim.hpp"
#include "convkit/plot.hpp"
#include "convkit/train/distributed.hpp"
#include "convkit/train/resume.hpp"
#include "convkit/train/trainer.hpp"

namespace convkit::cli {

namespace {

struct TrainOptions {
  std::string arch, arch_file, data, out = "model.ckpt", resume, log, augment, plot, plot_filters;
  std::string lr = "auto";
  TrainConfig cfg;
  int threads = 0;
  long long max_pixels = 0;
  bool quiet = false;
};

std::atomic<bool> g_stop{false};

extern "C" void on_sigint(int) {
  g_stop.store(true);
  // A second Ctrl-C ends the program at once.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

Augment parse_augment(const std::string& s) {
  Augment a;
  if (s.empty() || s == "none") return a;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item == "flip") {
      a.hflip = true;
    } else if (item == "crop") {
      a.crop_pad = 4;
    } else if (item.rfind("crop:", 0) == 0) {
      try {
        std::size_t pos = 0;
        a.crop_pad = std::stoi(item.substr(5), &pos);
        if (pos != item.size() - 5 || a.crop_pad < 1 || a.crop_pad > 64) throw 0;
      } catch (...) {
        throw UsageError("--augment: bad crop padding in '" + item + "' (use crop:N, N 1 to 64)");
      }
    } else {
      throw UsageError("--augment: unknown item '" + item + "' (use crop, crop:N, flip)");
    }
  }
  return a;
}

void train_ranks(TrainOptions& o, CLI::App* sub, const dist::Group& group) {
  const bool lead = group.rank() == 0;
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  TrainConfig cfg = o.cfg;
  cfg.augment = parse_augment(o.augment);
  cfg.lr_auto = o.lr == "auto";
  if (!cfg.lr_auto) cfg.lr = std::stod(o.lr);  // checked by the option's validator
  Checkpoint resumed;
  const Checkpoint* resume = nullptr;
  std::string out = o.out, log_path = o.log, plot_path = o.plot;
  if (!o.resume.empty()) {
    resumed = load_checkpoint(o.resume);
    resume = &resumed;
    // The run continues with the checkpoint's settings (train/resume.hpp);
    // output and reporting options may be given anew.
    ResumeRequest request{o.resume};
    if (sub->count("--epochs") > 0) request.epochs = cfg.epochs;
    request.data = o.data;
    for (const CLI::Option* opt : sub->get_options()) {
      if (opt->count() == 0 || opt->get_lnames().empty()) continue;
      std::string field = opt->get_lnames().front();
      std::replace(field.begin(), field.end(), '-', '_');
      request.given.push_back(field == "arch_file" ? "arch" : field);  // the network, from a file
    }
    cfg = resume_config(resumed, request);
    if (sub->count("-o") == 0) out = o.resume;
    // The log and the curves go on where the checkpoint's run wrote them,
    // unless given anew.
    if (sub->count("--log") == 0) log_path = cfg.log;
    if (sub->count("--plot") == 0) plot_path = cfg.plot;
  } else {
    if (o.arch.empty() == o.arch_file.empty())
      throw UsageError("give the network with --arch SPEC or --arch-file FILE (one of them)");
    if (o.data.empty()) throw UsageError("--data is required (e.g. --data fashion-mnist)");
    cfg.data = stored_path(o.data, true);
    if (!o.arch.empty()) {
      cfg.arch = o.arch;
      try {
        parse_arch(cfg.arch, "--arch");
      } catch (const ParseError& e) {
        if (e.mark()) throw UsageError(e.what(), *e.mark());
        throw UsageError(e.what());
      }
    } else {
      cfg.arch = read_arch_text(o.arch_file);
      parse_arch(cfg.arch, o.arch_file);
    }
  }
  if (cfg.data.empty()) throw UsageError("--data is required");
  if (!matmul_precision_available(parse_matmul_precision(cfg.precision, "--precision")))
    throw UsageError(
        (resume ? o.resume + " was trained with --precision " + cfg.precision + ", which"
                : "--precision " + cfg.precision) +
        " needs a CPU with the AVX512_BF16 instructions (vdpbf16ps); this one has none" +
        (resume ? "" : " (use --precision fp32)"));
  if (!plot_path.empty() && !plot::is_png_path(plot_path))
    throw UsageError("--plot " + plot_path + ": the curves are written as PNG (use a .png name)");
  const std::string& filters_path = o.plot_filters;
  if (!filters_path.empty()) {
    if (!plot::is_png_path(filters_path))
      throw UsageError("--plot-filters " + filters_path +
                       ": the kernels are drawn as PNG (use a .png name)");
    const Arch a = parse_arch(cfg.arch);
    if (std::none_of(a.layers.begin(), a.layers.end(),
                     [](const LayerSpec& l) { return l.kind == LayerKind::conv; }))
      throw UsageError(
          "--plot-filters draws the first CONV layer's kernels, but the network has "
          "no CONV layer");
  }
  // Only rank 0 writes (its node's file system).
  if (lead)
    check_outputs({{"-o", out},
                   {"--log", log_path},
                   {"--plot", plot_path},
                   {"--plot-filters", filters_path}});
  // With -o elsewhere, a log or plot over the resumed checkpoint would destroy it.
  for (const auto& [flag, path] : {std::pair{"--log", log_path}, std::pair{"--plot", plot_path},
                                   std::pair{"--plot-filters", filters_path}})
    if (resume && !path.empty() && same_file(path, o.resume))
      throw UsageError(std::string(flag) + " " + path + " is the checkpoint being resumed (" +
                       o.resume + "); give it its own name");
  cfg.log = stored_path(log_path, false);
  cfg.plot = stored_path(plot_path, false);

  DataSource src = open_dataset(cfg.data, true, false);
  if (lead)
    for (const auto& w : src.warnings) std::fprintf(stderr, "convkit: warning: %s\n", w.c_str());
  const bool tty = isatty(STDERR_FILENO) != 0;
  Progress progress(stderr, tty, o.quiet || !lead);
  if (resume && resume->epoch >= cfg.epochs) {
    if (lead)
      std::printf("%s already holds %d epochs (--epochs %d): nothing to do\n", o.resume.c_str(),
                  resume->epoch, cfg.epochs);
    return;
  }
  if (lead) {
    std::printf(
        "training on %s: %zu images %dx%dx%d, %d classes, %.0f%% held out for validation%s%s\n",
        src.name.c_str(), src.train.size(), src.train.width, src.train.height, src.train.channels,
        src.train.num_classes(), cfg.val_split * 100,
        resume ? (", resuming after epoch " + std::to_string(resume->epoch)).c_str() : "",
        group.size() > 1 ? (", " + std::to_string(group.size()) + " processes").c_str() : "");
    std::fflush(stdout);
  }

  g_stop.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  struct Restore {
    struct sigaction a, b;
    ~Restore() {
      sigaction(SIGINT, &a, nullptr);
      sigaction(SIGTERM, &b, nullptr);
    }
  } restore{old_int, old_term};

  TrainHooks hooks;
  hooks.progress = &progress;
  hooks.stop = &g_stop;
  hooks.group = &group;
  const bool has_val = cfg.val_split > 0;
  std::vector<EpochMetrics> history = resume ? resume->history : std::vector<EpochMetrics>{};
  // Under MPI: the time rank 0 spent in the gradient exchange (waiting for
  // the slowest rank included), per epoch.
  CommStats comm;
  if (group.size() > 1) hooks.comm = &comm;
  hooks.on_lr_found = [&](const LrFinding& f) {
    std::printf(
        "--lr auto: range test of %d steps, lr %g to %g: the smoothed loss fell fastest at lr "
        "%.3g and was lowest at lr %.3g; training with lr %.3g\n",
        f.steps, f.from, f.to, f.steepest, f.at_min, f.chosen);
    std::fflush(stdout);
  };
  hooks.on_epoch = [&](const EpochMetrics& m) {
    std::printf("%s\n", epoch_summary(m, cfg.epochs, has_val).c_str());
    if (group.size() > 1 && comm.steps > 0) {
      std::printf("  gradient exchange %.2f s, %.2f ms a step, %.0f KiB a step per rank\n",
                  comm.seconds, 1e3 * comm.seconds / static_cast<double>(comm.steps),
                  comm.bytes / 1024.0 / static_cast<double>(comm.steps));
      comm = {};
    }
    std::fflush(stdout);
    history.push_back(m);
    if (!plot_path.empty()) plot_training_curves(plot_path, history, has_val);
  };
  Checkpoint final_ck;
  try {
    final_ck = train_model(cfg, src, resume, out, log_path, hooks);
  } catch (const TrainInterrupted& t) {
    // Every rank stops after the same batch.
    throw dist::CollectiveError("interrupted during epoch " + std::to_string(t.epoch_in_progress) +
                                (t.last_saved_epoch > 0
                                     ? "; " + out + " holds epoch " +
                                           std::to_string(t.last_saved_epoch) +
                                           " (continue with --resume " + out + ")"
                                     : "; no epoch was finished, so no checkpoint was written"));
  }
  if (lead) std::printf("saved %s (epoch %d)\n", out.c_str(), final_ck.epoch);
  if (lead && !filters_path.empty()) {
    // Parameter tensors come in layer order: the first conv weight is the first CONV layer's.
    for (const NamedTensor& t : final_ck.tensors)
      if (t.name.ends_with(".conv.weight") && t.shape.size() == 4) {
        plot::save_png(
            plot::filter_grid(t.data.data(), static_cast<int>(t.shape[0]),
                              static_cast<int>(t.shape[1]), static_cast<int>(t.shape[2])),
            filters_path);
        std::printf("drew the %lld kernels of %s in %s\n", static_cast<long long>(t.shape[0]),
                    t.name.c_str(), filters_path.c_str());
        break;
      }
  }
}

// Under mpirun or srun every rank runs train_ranks.  An error that every
// rank meets at the same point (an interruption, a diverged loss) is
// reported once by rank 0; any other error is reported by the rank that
// met it, naming the rank, and stops the whole job (the other ranks may be
// waiting for it in a collective).
void run_train(TrainOptions& o, CLI::App* sub) {
  const dist::Group& group = dist::world();
  if (group.size() == 1) return train_ranks(o, sub, group);
  try {
    train_ranks(o, sub, group);
  } catch (const dist::CollectiveError&) {
    if (group.rank() == 0) throw;
    std::exit(1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convkit: error: rank %d of %d: %s\n", group.rank(), group.size(),
                 error_text(e).c_str());
    std::fflush(stderr);
    group.abort(dynamic_cast<const UsageError*>(&e) ? 2 : 1);
  }
}

void register_train(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* sub = app.add_subcommand(
      "train", "Train a CNN given in the SPEC language on a data set, checkpointing every epoch");
  sub->add_option("--arch", o->arch, "The network, e.g. \"CONV3-10 ReLU POOL2 FLATTEN FC-10\"");
  sub->add_option("--arch-file", o->arch_file, "Read the network from FILE");
  sub->add_option("--data", o->data,
                  "fashion-mnist, synthetic-edges, or a directory with MNIST-style IDX files, "
                  "CIFAR-10 binary batches, or one image folder per class");
  sub->add_option("--epochs", o->cfg.epochs, "Total epochs (counting those before a --resume)")
      ->check(whole_range(1, 100000))
      ->capture_default_str();
  sub->add_option("--batch", o->cfg.batch, "Mini-batch size")
      ->check(whole_range(1, 65536))
      ->capture_default_str();
  sub->add_option("--lr", o->lr,
                  "Learning rate, or auto: a range test of 100 steps before the first epoch "
                  "picks it (printed: half the smaller of the rate where the loss falls "
                  "fastest and a tenth of the rate at its lowest)")
      ->type_name("FLOAT")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            if (s == "auto") return {};
            std::string v = s;
            return finite_range(0, HUGE_VAL, "a number greater than 0, or auto", true, false)(v);
          },
          "", "learning rate"))
      ->capture_default_str();
  sub->add_option("--optimizer", o->cfg.optimizer, "sgd, adam or adamw")
      ->check(CLI::IsMember(names_of(nn::kOptimizerNames)))
      ->capture_default_str();
  sub->add_option("--momentum", o->cfg.momentum, "SGD momentum")
      ->check(finite_range(0, 1, "a number from 0 to less than 1", false, true))
      ->capture_default_str();
  sub->add_option("--weight-decay", o->cfg.weight_decay,
                  "Weight decay (L2 for sgd/adam, decoupled for adamw; not on biases or BN)")
      ->check(finite_range(0, 1, "a number from 0 to 1"))
      ->capture_default_str();
  sub->add_flag("--nesterov", o->cfg.nesterov,
                "Nesterov momentum (with --optimizer sgd): the step looks ahead along the "
                "momentum");
  sub->add_option("--label-smoothing", o->cfg.label_smoothing,
                  "Train towards (1-E) on the true class and E/classes on every class "
                  "instead of one-hot targets")
      ->check(finite_range(0, 1, "a number from 0 to less than 1", false, true))
      ->capture_default_str();
  sub->add_option("--ema", o->cfg.ema,
                  "Keep an exponential moving average of the weights with this decay (e.g. "
                  "0.999); validation, eval and predict use it (0: off)")
      ->check(finite_range(0, 1, "a number from 0 to less than 1", false, true))
      ->capture_default_str();
  sub->add_option("--schedule", o->cfg.schedule,
                  "Learning-rate schedule: constant, step (x gamma every --step-epochs), "
                  "cosine (to 0 at the last epoch), onecycle (lr/25 up to lr in the first 30% "
                  "and down to lr/250000, half cosines) or triangular (linear up to lr in the "
                  "first fifth, linear down to 0)")
      ->check(CLI::IsMember(names_of(nn::kScheduleNames)))
      ->capture_default_str();
  sub->add_option("--gamma", o->cfg.gamma, "Step schedule factor")
      ->check(finite_range(0, 1, "a number from 0 to 1"))
      ->capture_default_str();
  sub->add_option("--step-epochs", o->cfg.step_epochs, "Step schedule period in epochs")
      ->check(whole_range(1, 100000))
      ->capture_default_str();
  sub->add_option("--warmup-epochs", o->cfg.warmup_epochs, "Linear warm-up epochs")
      ->check(whole_range(0, 100000))
      ->capture_default_str();
  sub->add_option("--seed", o->cfg.seed, "Seed of weights, split, shuffling, augmentation, dropout")
      ->check(whole_range(0, 1LL << 62))
      ->capture_default_str();
  sub->add_option("--init", o->cfg.init,
                  "Initial weights: he (normal, sd sqrt(2/fan_in), biases 0), xavier, or uniform "
                  "(+-1/sqrt(fan_in) for weights and biases, as PyTorch starts)")
      ->check(CLI::IsMember({"he", "xavier", "uniform"}))
      ->capture_default_str();
  sub->add_option("--val-split", o->cfg.val_split,
                  "Fraction of the training images held out for validation")
      ->check(finite_range(0, 0.9, "a number from 0 to 0.9"))
      ->capture_default_str();
  sub->add_option("--augment", o->augment,
                  "Augmentation: comma list of crop (random crop, 4 px zero padding), crop:N, "
                  "flip (horizontal)");
  sub->add_option("-o,--output", o->out, "Checkpoint written after every epoch")
      ->capture_default_str();
  sub->add_option("--resume", o->resume,
                  "Continue this checkpoint up to --epochs (same settings and data, same result "
                  "as an uninterrupted run; --log and --plot go on unless given anew)");
  sub->add_option("--log", o->log,
                  "Per-epoch metrics to FILE: CSV, or JSON if FILE ends in .json (no validation: "
                  "nan in CSV, null in JSON)");
  sub->add_option(
      "--plot", o->plot,
      "PNG of loss and accuracy against epoch, train vs validation (after every epoch)");
  sub->add_option("--plot-filters", o->plot_filters,
                  "After training, draw the first CONV layer's kernels as an image grid in this "
                  "PNG (grey: 0; white/black: the largest positive/negative weight)");
  sub->add_option("--micro-batch", o->cfg.micro_batch,
                  "Images per micro-group: each group's gradient on its own (batchnorm statistics "
                  "per group), summed in order, so mpirun -np N gives the same result for any N; "
                  "0: the whole batch")
      ->check(whole_range(0, 65536))
      ->capture_default_str();
  sub->add_option("--precision", o->cfg.precision,
                  "Matrix products of the CONV and FC layers in training: fp32, or bf16 "
                  "(bfloat16 operands, float32 sums, weights and optimizer; needs AVX512_BF16; "
                  "validation, eval and predict stay fp32)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  add_threads_option(sub, o->threads);
  add_max_pixels_option(sub, o->max_pixels);
  sub->add_flag("-q,--quiet", o->quiet, "No progress bar");
  sub->footer(
      "Examples:\n"
      "  convkit train --data synthetic-edges --epochs 30 \\\n"
      "      --arch \"CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3\"\n"
      "  convkit train --data fashion-mnist --epochs 3 -o fm.ckpt --log fm.csv --plot fm.png \\\n"
      "      --arch \"CONV3-10 ReLU POOL2 CONV3-10 ReLU POOL2 FLATTEN FC-10\"\n"
      "  convkit train --resume fm.ckpt                # after a Ctrl-C: the epochs left\n"
      "  convkit train --data fashion-mnist --epochs 3 --schedule constant -o c.ckpt \\\n"
      "      --arch \"CONV3-10 ReLU POOL2 CONV3-10 ReLU POOL2 FLATTEN FC-10\"\n"
      "  convkit train --resume c.ckpt --epochs 5      # two more (not with cosine)\n"
      "  convkit train --data fashion-mnist --arch-file net.arch --optimizer sgd --lr 0.05 \\\n"
      "      --momentum 0.9 --schedule cosine --augment crop:2,flip --seed 7\n"
      "\n"
      "Ctrl-C stops after the current batch; the checkpoint of the last finished epoch stays\n"
      "valid. The same --seed and --micro-batch give bit-identical weights and metrics for\n"
      "any --threads and any number of MPI ranks: mpirun -np 2 convkit train ... shares\n"
      "every batch between two processes (rank 0 prints and writes).\n"
      "-o, --log and --plot must name different files in existing, writable directories\n"
      "(checked before the first epoch). The checkpoint stores the data's path and the log's\n"
      "and plot's as absolute paths, so --resume works from any directory; --data cannot\n"
      "change on --resume. In an image folder set, entries whose name starts with '.' are\n"
      "skipped, and a class folder without images is not a class (a warning names it).");
  sub->callback([o, sub] { run_train(*o, sub); });
}

}  // namespace

CONVKIT_COMMAND(50, register_train);

}  // namespace convkit::cli
