// Training curves: loss and accuracy against epoch, train vs validation.
#include <algorithm>

#include "convkit/plot.hpp"

namespace convkit::plot {

Figure training_curves(const TrainingHistory& h, PlotSize size, const std::string& title) {
  Figure fig;
  fig.width = size.width;
  fig.height = size.height;
  fig.title = title;
  auto add = [&](Panel& p, const std::vector<double>& y, const char* label, int color,
                 bool dashed) {
    if (y.empty()) return;
    LineSeries s;
    s.label = label;
    s.x.assign(h.epoch.begin(), h.epoch.begin() + std::min(h.epoch.size(), y.size()));
    s.y.assign(y.begin(), y.begin() + s.x.size());
    s.color = palette(color);
    s.dashed = dashed;
    s.markers = s.x.size() <= 30;
    p.lines.push_back(std::move(s));
  };
  const bool integer_epochs = [&] {
    for (double e : h.epoch)
      if (e != static_cast<double>(static_cast<long long>(e))) return false;
    return true;
  }();
  Panel& loss = fig.add_panel("loss", "epoch", "loss");
  loss.integer_x = integer_epochs;
  add(loss, h.train_loss, "train", 0, false);
  add(loss, h.val_loss, "validation", 1, true);
  if (!h.train_accuracy.empty() || !h.val_accuracy.empty()) {
    Panel& acc = fig.add_panel("accuracy", "epoch", "accuracy");
    acc.integer_x = integer_epochs;
    add(acc, h.train_accuracy, "train", 0, false);
    add(acc, h.val_accuracy, "validation", 1, true);
  }
  return fig;
}

}  // namespace convkit::plot
