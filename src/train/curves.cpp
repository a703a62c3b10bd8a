// Training curves: loss and accuracy against epoch, train vs validation.
#include "convkit/error.hpp"
#include "convkit/plot.hpp"
#include "convkit/train/progress.hpp"

namespace convkit {

void plot_training_curves(const std::string& path, const std::vector<EpochMetrics>& history,
                          bool has_val) {
  plot::Figure fig;
  fig.width = 1000;
  fig.height = 420;
  fig.columns = 2;
  std::vector<double> ep, tl, vl, ta, va;
  for (const auto& m : history) {
    ep.push_back(m.epoch);
    tl.push_back(m.train_loss);
    vl.push_back(m.val_loss);
    ta.push_back(100 * m.train_acc);
    va.push_back(100 * m.val_acc);
  }
  const bool markers = history.size() < 30;
  auto& loss = fig.add_panel("loss", "epoch", "cross-entropy");
  loss.integer_x = true;
  loss.lines.push_back({"train", ep, tl, plot::palette(0), 2.0, false, markers});
  if (has_val) loss.lines.push_back({"validation", ep, vl, plot::palette(1), 2.0, false, markers});
  auto& acc = fig.add_panel("accuracy", "epoch", "accuracy (%)");
  acc.integer_x = true;
  acc.lines.push_back({"train", ep, ta, plot::palette(0), 2.0, false, markers});
  if (has_val) acc.lines.push_back({"validation", ep, va, plot::palette(1), 2.0, false, markers});
  fig.save(path);
}

}  // namespace convkit
