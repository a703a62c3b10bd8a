// convkit normalize — batch normalization of the columns of a data file (the
// seed's problem 1), with the same arithmetic as the BatchNorm layer
// (convkit/nn/batchnorm_math.hpp), and a before/after picture.
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/number_list.hpp"
#include "cli/outputs.hpp"
#include "cli/validate.hpp"
#include "convkit/data_table.hpp"
#include "convkit/error.hpp"
#include "convkit/nn/batchnorm_math.hpp"
#include "convkit/plot.hpp"

namespace convkit::cli {
namespace {

struct NormalizeOptions {
  std::string input;
  std::string gamma = "1", beta = "0";
  double eps = 1e-5;
  std::string output;
  std::string plot;
  int width = 800, height = 560;
  std::string layout = "overlay";
  int bins = 0;
  bool quiet = false;
};

std::string num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  std::string s = buf;
  return s == "-0" ? "0" : s;
}

std::string num4(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.4g", std::abs(v) < 5e-13 ? 0.0 : v);
  return buf;
}

std::string column_name(const DataTable& t, std::int64_t c) {
  if (c < static_cast<std::int64_t>(t.names.size()) && !t.names[c].empty()) return t.names[c];
  return "x" + std::to_string(c + 1);
}

struct ColumnStats {
  std::vector<double> mean, var;
};

ColumnStats stats_of(const DataTable& t) {
  ColumnStats s;
  s.mean.resize(t.cols);
  s.var.resize(t.cols);
  FeatureLayout L;
  L.groups = t.cols;
  L.count = t.rows;
  L.inner = 1;
  L.feature_stride = 1;
  L.outer_stride = t.cols;
  batch_statistics(t.data.data(), L, s.mean.data(), s.var.data());
  return s;
}

std::string fmt_params(double g, double b, double eps) {
  return "gamma " + num(g) + ", beta " + num(b) + ", eps " + num(eps);
}

plot::Figure histogram_figure(const DataTable& before, const DataTable& after,
                              const ColumnStats& sb, const ColumnStats& sa, double gamma,
                              double beta, const NormalizeOptions& o) {
  const std::vector<double> xb = before.column(0), xa = after.column(0);
  const int bins = o.bins > 0 ? o.bins : plot::auto_bins(xb.size());
  auto range_of = [](const std::vector<double>& v, double mean, double var) {
    const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    const double sd = std::sqrt(var);
    // The histogram covers the data, but at most mean +- 5 sd (a few outliers
    // must not squash the picture).
    return std::pair{std::max(*mn, mean - 5 * sd), std::min(*mx, mean + 5 * sd)};
  };
  const auto [b0, b1] = range_of(xb, sb.mean[0], sb.var[0]);
  const auto [a0, a1] = range_of(xa, sa.mean[0], sa.var[0]);
  const std::string name = column_name(before, 0);

  plot::Figure fig;
  fig.width = o.width;
  fig.height = o.height;
  fig.title = "batch norm of " + name + ": " + fmt_params(gamma, beta, o.eps);
  auto add = [&](plot::Panel& p, const std::vector<double>& x, double lo, double hi, double mean,
                 double var, int color, const std::string& which) {
    plot::HistogramSeries h = plot::density_histogram(x, bins, lo, hi);
    h.color = plot::palette(color);
    h.label = which;
    p.histograms.push_back(std::move(h));
    const double sd = std::sqrt(var);
    plot::LineSeries g =
        plot::gaussian_curve(mean, var, std::min(lo, mean - 4 * sd), std::max(hi, mean + 4 * sd));
    g.color = plot::palette(color);
    g.label = "N(" + num4(mean) + ", " + num4(var) + ")";
    p.lines.push_back(std::move(g));
  };
  plot::VLine vb{beta, "beta = " + num(beta), plot::palette(3), true};
  if (o.layout == "side") {
    fig.columns = 2;
    auto& p1 = fig.add_panel("before", name, "density");
    add(p1, xb, b0, b1, sb.mean[0], sb.var[0], 0, "before");
    auto& p2 = fig.add_panel("after", name, "density");
    add(p2, xa, a0, a1, sa.mean[0], sa.var[0], 1, "after");
    p2.vlines.push_back(vb);
  } else {
    auto& p = fig.add_panel("", name, "density");
    add(p, xb, b0, b1, sb.mean[0], sb.var[0], 0, "before");
    add(p, xa, a0, a1, sa.mean[0], sa.var[0], 1, "after");
    p.vlines.push_back(vb);
  }
  return fig;
}

std::vector<double> covariance_2d(const DataTable& t, const ColumnStats& s) {
  double sxy = 0;
  for (std::int64_t r = 0; r < t.rows; ++r)
    sxy += (t.at(r, 0) - s.mean[0]) * (t.at(r, 1) - s.mean[1]);
  sxy /= static_cast<double>(t.rows);
  return {s.var[0], sxy, s.var[1]};
}

plot::Figure scatter_figure(const DataTable& before, const DataTable& after, const ColumnStats& sb,
                            const ColumnStats& sa, const std::vector<double>& gamma,
                            const std::vector<double>& beta, const NormalizeOptions& o) {
  plot::Figure fig;
  fig.width = o.width;
  fig.height = o.height;
  const std::string nx = column_name(before, 0), ny = column_name(before, 1);
  fig.title = "batch norm of " + nx + ", " + ny + ": means, 1- and 2-sigma contours";
  auto add = [&](plot::Panel& p, const DataTable& t, const ColumnStats& s, int color,
                 const std::string& which) {
    plot::ScatterSeries sc;
    // At most 20000 points are drawn (every k-th row); the statistics use all.
    const std::int64_t stride = std::max<std::int64_t>(1, (t.rows + 19999) / 20000);
    for (std::int64_t r = 0; r < t.rows; r += stride) {
      sc.x.push_back(t.at(r, 0));
      sc.y.push_back(t.at(r, 1));
    }
    sc.color = plot::palette(color);
    sc.alpha = t.rows > 3000 ? 0.2 : 0.3;
    sc.label = which;
    p.scatters.push_back(std::move(sc));
    const std::vector<double> c = covariance_2d(t, s);
    for (int k = 1; k <= 2; ++k) {
      const plot::EllipseAxes e = plot::covariance_ellipse(c[0], c[1], c[2], k);
      plot::EllipseSeries es;
      es.cx = s.mean[0];
      es.cy = s.mean[1];
      es.semi_major = e.semi_major;
      es.semi_minor = e.semi_minor;
      es.angle = e.angle;
      const plot::Color c0 = plot::palette(color);  // darker than the points under it
      es.color = {static_cast<std::uint8_t>(c0.r * 0.6), static_cast<std::uint8_t>(c0.g * 0.6),
                  static_cast<std::uint8_t>(c0.b * 0.6)};
      es.dashed = k == 2;
      es.show_center = k == 1;
      p.ellipses.push_back(std::move(es));
    }
  };
  const std::string sub = "gamma " + num(gamma[0]) + "," + num(gamma[1]) + ", beta " +
                          num(beta[0]) + "," + num(beta[1]);
  // Legend-only entries (no points) for the contour styles.
  auto contour_keys = [](plot::Panel& p) {
    plot::LineSeries one, two;
    one.label = "1 sigma";
    one.color = plot::kBlack;
    two.label = "2 sigma";
    two.color = plot::kBlack;
    two.dashed = true;
    p.lines.push_back(one);
    p.lines.push_back(two);
  };
  if (o.layout == "side") {
    fig.columns = 2;
    auto& p1 = fig.add_panel("before", nx, ny);
    p1.equal_aspect = true;
    add(p1, before, sb, 0, "before");
    auto& p2 = fig.add_panel("after (" + sub + ")", nx, ny);
    p2.equal_aspect = true;
    add(p2, after, sa, 1, "after");
    contour_keys(p2);
  } else {
    auto& p = fig.add_panel("before and after (" + sub + ")", nx, ny);
    p.equal_aspect = true;
    add(p, before, sb, 0, "before");
    add(p, after, sa, 1, "after");
    contour_keys(p);
  }
  return fig;
}

// The most text read from a pipe or device (a regular file is checked by its
// size when read_data_table opens it).
constexpr std::size_t kMaxStreamBytes = std::size_t(256) << 20;

// The table, reading a pipe or device (stdin included) in bounded chunks:
// binary bytes (NUL) stop it at once, and more than kMaxStreamBytes is refused.
DataTable read_table(const std::string& path, const std::string& name) {
  struct stat st {};
  const bool stream = path == "-"
                          ? !(::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
                          : (::stat(path.c_str(), &st) == 0 &&
                             (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)));
  if (!stream) return read_data_table(path);
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) throw Error(name + ": cannot open: " + std::strerror(errno));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> own(path == "-" ? nullptr : f, &std::fclose);
  std::string bytes;
  char buf[1 << 16];
  bool npy = false;  // a text table never starts with the .npy magic's first byte
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    if (n == 0) break;
    if (bytes.empty()) npy = buf[0] == '\x93';
    if (!npy)
      if (const void* z = std::memchr(buf, 0, n))
        throw ParseError(name + ": a NUL byte at offset " +
                         std::to_string(bytes.size() + static_cast<std::size_t>(
                                                           static_cast<const char*>(z) - buf)) +
                         ": binary data, not a text table");
    if (bytes.size() + n > kMaxStreamBytes)
      throw Error(name + ": more than " + std::to_string(kMaxStreamBytes >> 20) +
                  " MiB from a pipe or device, the limit for a stream (give a file)");
    bytes.append(buf, n);
  }
  if (std::ferror(f)) throw Error(name + ": read error: " + std::strerror(errno));
  return parse_data_table(
      bytes, name,
      npy ? TableFormat::npy
          : (path == "-" ? TableFormat::whitespace : table_format_for_path(path)));
}

// Refuse a result that is not finite in the precision it is written in.
void check_finite(const DataTable& t, const ColumnStats& before, bool float32,
                  const std::string& name) {
  for (std::int64_t c = 0; c < t.cols; ++c)
    if (!std::isfinite(before.var[c]) || !std::isfinite(before.mean[c]))
      throw Error(name + ": column " + std::to_string(c + 1) +
                  ": the values are too large for the variance to be computed (it overflows "
                  "double precision); scale the data down");
  const double limit = float32 ? static_cast<double>(std::numeric_limits<float>::max()) : DBL_MAX;
  for (std::int64_t r = 0; r < t.rows; ++r)
    for (std::int64_t c = 0; c < t.cols; ++c)
      if (!(std::abs(t.at(r, c)) <= limit))
        throw Error(name + ": row " + std::to_string(r + 1) + ", column " + std::to_string(c + 1) +
                    ": --gamma and --beta give a value beyond the " +
                    (float32 ? "float32" : "float64") +
                    " range of the output; use a smaller --gamma or --beta");
}

void run_normalize(const NormalizeOptions& o) {
  if (!(o.eps >= 0) || !std::isfinite(o.eps)) throw UsageError("--eps must be >= 0");
  const bool plotting = !o.plot.empty();
  if (plotting && !plot::is_png_path(o.plot))
    throw UsageError("--plot writes a PNG file: give a name ending in .png");
  check_outputs({{"-o", o.output}, {"--plot", o.plot}});
  const std::string name = o.input == "-" ? "<stdin>" : o.input;
  DataTable t = read_table(o.input, name);
  if (t.rows < 2)
    throw Error(name + ": batch normalization needs at least 2 rows (found " +
                std::to_string(t.rows) + ")");
  const std::vector<double> gamma =
      per_column(parse_number_list(o.gamma, "--gamma"), static_cast<std::size_t>(t.cols), "gamma");
  const std::vector<double> beta =
      per_column(parse_number_list(o.beta, "--beta"), static_cast<std::size_t>(t.cols), "beta");
  if (plotting && t.cols > 2)
    throw UsageError("--plot draws one column (histogram) or two (scatter); " + name + " has " +
                     std::to_string(t.cols) + " columns");

  const ColumnStats before = stats_of(t);
  for (std::int64_t c = 0; c < t.cols; ++c)
    if (o.eps == 0 && before.var[c] == 0)
      throw Error(name + ": column " + std::to_string(c + 1) +
                  " is constant and --eps is 0: division by zero");

  DataTable out = t;
  FeatureLayout L;
  L.groups = t.cols;
  L.count = t.rows;
  L.feature_stride = 1;
  L.outer_stride = t.cols;
  batch_normalize(t.data.data(), L, before.mean.data(), before.var.data(), o.eps, gamma.data(),
                  beta.data(), out.data.data());
  const ColumnStats after = stats_of(out);

  // The data: to -o (format from its extension, else the input's), or stdout as text.
  bool data_to_stdout = o.output.empty() || o.output == "-";
  if (data_to_stdout) {
    if (out.format == TableFormat::npy) out.format = TableFormat::whitespace;
  } else {
    const TableFormat f = table_format_for_path(o.output);
    if (f != TableFormat::whitespace) out.format = f;
  }
  check_finite(out, before, out.format == TableFormat::npy && out.npy_float32, name);

  // Statistics table (stderr when the data goes to stdout).
  std::string report;
  if (!o.quiet) {
    report += "column          mean_before      var_before      mean_after       var_after\n";
    for (std::int64_t c = 0; c < t.cols; ++c) {
      char line[256];
      std::snprintf(line, sizeof line, "%-12s %14s %15s %15s %15s\n", column_name(t, c).c_str(),
                    num(before.mean[c]).c_str(), num(before.var[c]).c_str(),
                    num(std::abs(after.mean[c]) < 1e-12 ? 0.0 : after.mean[c]).c_str(),
                    num(after.var[c]).c_str());
      report += line;
    }
    if (t.cols == 2) {
      const auto cb = covariance_2d(t, before), ca = covariance_2d(out, after);
      char line[256];
      std::snprintf(line, sizeof line, "covariance   %14s %15s %15s %15s\n", "", num(cb[1]).c_str(),
                    "", num(ca[1]).c_str());
      report += line;
    }
  }

  if (plotting) {
    plot::Figure fig = t.cols == 1 ? histogram_figure(t, out, before, after, gamma[0], beta[0], o)
                                   : scatter_figure(t, out, before, after, gamma, beta, o);
    fig.save(o.plot);
  }
  if (data_to_stdout) {
    std::fputs(report.c_str(), stderr);
    write_data_table(out, "-");
  } else {
    write_data_table(out, o.output);
    std::fputs(report.c_str(), stdout);
  }
}

void register_normalize(CLI::App& app) {
  auto opt = std::make_shared<NormalizeOptions>();
  auto* sub = app.add_subcommand(
      "normalize",
      "Batch-normalize the columns of a data file (CSV, whitespace text, .npy), with a plot");
  sub->add_option("file", opt->input,
                  "Data file: rows of samples, one column per feature ('-' = stdin)")
      ->required();
  sub->add_option("--gamma", opt->gamma,
                  "Scale: one value, or one per column, comma-separated (default 1)");
  sub->add_option("--beta", opt->beta,
                  "Shift: one value, or one per column, comma-separated (default 0)");
  sub->add_option("--eps", opt->eps, "Epsilon added to the variance (default 1e-5)")
      ->check(finite_range(0, HUGE_VAL, "a number of at least 0"));
  sub->add_option("-o,--output", opt->output,
                  "Write the normalized data here, same format as the input (.csv/.npy by "
                  "extension); default stdout (text)");
  sub->add_option("--plot", opt->plot,
                  "Draw before/after as PNG: one column = histograms with fitted Gaussians, two "
                  "columns = scatter with mean and 1-, 2-sigma ellipses");
  sub->add_option("--width", opt->width, "Plot width in pixels (default 800)")
      ->check(whole_range(64, 8192));
  sub->add_option("--height", opt->height, "Plot height in pixels (default 560)")
      ->check(whole_range(48, 8192));
  sub->add_option("--layout", opt->layout,
                  "overlay (one set of axes, default) or side (before | after)")
      ->check(CLI::IsMember({"overlay", "side"}));
  sub->add_option("--bins", opt->bins, "Histogram bins (default from the row count)")
      ->check(whole_range(1, 1000));
  sub->add_flag("-q,--quiet", opt->quiet, "Do not print the mean/variance table");
  sub->footer(
      "Each column j becomes y = gamma_j (x - mean_j) / sqrt(var_j + eps) + beta_j, with the\n"
      "batch mean and biased variance of the column (the seed's problem 1 and the BatchNorm\n"
      "layer's arithmetic).  The per-column mean and variance before and after are printed\n"
      "(to stderr when the data goes to stdout).\n"
      "Examples:\n"
      "  convkit sample gaussian --mean 1.5 --var 0.16 --count 10000 --seed 1 -o x.txt\n"
      "  convkit normalize x.txt --gamma 1 --beta 3 -o y.txt --plot seed-1a.png\n"
      "  convkit sample gaussian --mean 1,2 --cov \"[1 0.8; 0.8 1]\" --count 5000 --seed 7 -o "
      "xy.txt\n"
      "  convkit normalize xy.txt --plot seed-1b.png -o xy-bn.txt\n"
      "  convkit normalize features.csv --gamma 2,1,0.5 --beta 0 -o features-bn.csv");
  sub->callback([opt] { run_normalize(*opt); });
}

}  // namespace

CONVKIT_COMMAND(60, register_normalize);

}  // namespace convkit::cli
