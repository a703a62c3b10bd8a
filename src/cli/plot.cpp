// convkit plot — a stem plot of a 1D signal: PNG with -o, else a chart in the terminal.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/text.hpp"
#include "convkit/plot.hpp"

namespace convkit::cli {
namespace {

struct PlotOptions {
  std::string input;
  std::string range;
  std::string output;
  std::string title, ylabel;
  int width = 800, height = 450;
  int columns = 0, rows = 12;
  bool ascii = false;
  std::int64_t origin = 0;
  bool origin_given = false;
};

// A signal file (io's text formats); --origin places a one-column signal.
Signal load_signal(const PlotOptions& o) {
  const std::string name = o.input == "-" ? "<stdin>" : o.input;
  const std::string text = read_input_bytes(o.input);
  const TextShape shape = classify_text(text, name);
  if (shape == TextShape::matrix)
    throw ParseError(name +
                     ": not a 1D signal (expected one value per line, one row of values, "
                     "or 'n value' lines)");
  Signal s = parse_signal(text, name);
  // NaN and infinity have no bar height: say so rather than draw a gap silently.
  std::size_t bad = 0, first = 0;
  for (std::size_t k = 0; k < s.values.size(); ++k)
    if (!std::isfinite(s.values[k]) && bad++ == 0) first = k;
  if (bad > 0)
    std::fprintf(stderr,
                 "convkit: warning: %s: %zu value%s not a finite number (the first, %s, at "
                 "n=%lld); drawn as empty bars\n",
                 quote_for_message(name).c_str(), bad, bad == 1 ? " is" : "s are",
                 format_number(s.values[first]).c_str(),
                 static_cast<long long>(s.origin + static_cast<std::int64_t>(first)));
  if (o.origin_given) {
    if (shape == TextShape::indexed_signal)
      throw UsageError("--origin: " + name + " already gives sample indices ('n value' lines)");
    s.origin = o.origin;
  }
  return s;
}

void run_plot(const PlotOptions& o) {
  const Signal s = load_signal(o);
  const plot::IndexRange r =
      o.range.empty() ? plot::signal_range(s) : plot::parse_index_range(o.range);
  if (o.output.empty() || o.output == "-") {
    int cols = o.columns;
    if (cols == 0) {
      cols = 80;
      if (const char* c = std::getenv("COLUMNS")) {
        const int v = std::atoi(c);
        if (v >= 40 && v <= 1000) cols = v;
      }
    }
    const std::string chart = plot::terminal_plot(s, r, cols, o.rows, o.ascii);
    if (!o.title.empty()) std::printf("%s\n", o.title.c_str());
    std::fwrite(chart.data(), 1, chart.size(), stdout);
    return;
  }
  if (!plot::is_png_path(o.output))
    throw UsageError(
        "-o: plot writes PNG; give a file name ending in .png (or no -o for a "
        "terminal chart)");
  plot::Figure fig = plot::stem_figure(s, r, {o.width, o.height}, o.title, o.ylabel);
  fig.save(o.output);
}

void register_plot(CLI::App& app) {
  auto opt = std::make_shared<PlotOptions>();
  auto* sub =
      app.add_subcommand("plot", "Stem plot of a 1D signal: PNG file, or a chart in the terminal");
  sub->add_option("signal", opt->input, "Signal file: values, or 'n value' lines ('-' = stdin)")
      ->required();
  sub->add_option("--range", opt->range,
                  "Indices A:B to show, e.g. -6:12 (zeros outside the signal); default: the "
                  "signal's support");
  sub->add_option("-o,--output", opt->output,
                  "PNG file to write; without -o (or '-') draw in the terminal");
  auto* origin = sub->add_option("--origin", opt->origin,
                                 "Index of the first value of a one-column signal (default 0)")
                     ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--title", opt->title, "Title above the plot");
  sub->add_option("--ylabel", opt->ylabel, "Label of the vertical axis (default x[n])");
  sub->add_option("--width", opt->width, "PNG width in pixels (default 800)")
      ->check(whole_range(64, 8192));
  sub->add_option("--height", opt->height, "PNG height in pixels (default 450)")
      ->check(whole_range(48, 8192));
  sub->add_option("--columns", opt->columns,
                  "Terminal chart width in characters (default $COLUMNS or 80)")
      ->check(whole_range(40, 1000));
  sub->add_option("--rows", opt->rows, "Terminal chart height in text rows (default 12)")
      ->check(whole_range(4, 200));
  sub->add_flag("--ascii", opt->ascii, "Terminal chart in plain ASCII instead of Unicode blocks");
  sub->footer(
      "Examples:\n"
      "  convkit plot y.txt --range -6:12 -o y.png\n"
      "  convkit plot y.txt --range -6:12           # chart in the terminal\n"
      "  printf '1 2 3 2 1\\n' | convkit plot - --origin -2 --ascii");
  sub->callback([opt, origin, sub] {
    opt->origin_given = origin->count() > 0;
    // Every flag acts or is refused: PNG flags need -o, terminal flags refuse it.
    const bool png = !opt->output.empty() && opt->output != "-";
    for (const char* flag : {"--width", "--height", "--ylabel"})
      if (sub->count(flag) > 0 && !png)
        throw UsageError(std::string(flag) + " applies to a PNG plot (-o FILE.png)");
    for (const char* flag : {"--columns", "--rows", "--ascii"})
      if (sub->count(flag) > 0 && png)
        throw UsageError(std::string(flag) + " applies to the terminal chart, not to -o FILE.png");
    run_plot(*opt);
  });
}

}  // namespace

CONVKIT_COMMAND(61, register_plot);

}  // namespace convkit::cli
