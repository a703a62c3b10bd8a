// 1D signals: stem plots (PNG) and bar charts for the terminal.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "convkit/error.hpp"
#include "convkit/plot.hpp"

namespace convkit::plot {

namespace {

constexpr std::int64_t kMaxPlotSamples = 10'000'000;

double sample_at(const Signal& s, std::int64_t n) {
  const std::int64_t k = n - s.origin;
  if (k < 0 || k >= static_cast<std::int64_t>(s.values.size())) return 0.0;
  return s.values[static_cast<std::size_t>(k)];
}

void check_range(IndexRange r) {
  if (r.last < r.first) throw UsageError("empty plot range");
  if (r.last - r.first + 1 > kMaxPlotSamples)
    throw UsageError("plot range " + std::to_string(r.first) + ":" + std::to_string(r.last) +
                     " is too long (at most " + std::to_string(kMaxPlotSamples) + " samples)");
}

}  // namespace

IndexRange signal_range(const Signal& s) {
  if (s.values.empty()) return {s.origin, s.origin};
  return {s.origin, s.origin + static_cast<std::int64_t>(s.values.size()) - 1};
}

IndexRange parse_index_range(const std::string& text) {
  const auto colon = text.find(':', text.empty() || text[0] != '-' ? 0 : 1);
  auto bad = [&] {
    return UsageError("bad range '" + text + "': expected A:B with integers A <= B, e.g. -6:12");
  };
  if (colon == std::string::npos) throw bad();
  IndexRange r;
  auto parse = [&](std::string_view s, std::int64_t& v) {
    const char* b = s.data();
    const char* e = s.data() + s.size();
    if (b != e && *b == '+') ++b;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || p != e || b == e) throw bad();
  };
  const std::string_view sv(text);
  parse(sv.substr(0, colon), r.first);
  parse(sv.substr(colon + 1), r.last);
  if (r.last < r.first) throw bad();
  check_range(r);
  return r;
}

Figure stem_figure(const Signal& s, IndexRange range, PlotSize size, const std::string& title,
                   const std::string& label) {
  check_range(range);
  Figure fig;
  fig.width = size.width;
  fig.height = size.height;
  Panel& p = fig.add_panel(title, "n", label.empty() ? "x[n]" : label);
  p.integer_x = true;
  p.legend = false;
  StemSeries st;
  st.color = palette(0);
  for (std::int64_t n = range.first; n <= range.last; ++n) {
    st.x.push_back(static_cast<double>(n));
    st.y.push_back(sample_at(s, n));
  }
  p.stems.push_back(std::move(st));
  return fig;
}

void plot_stem(const Signal& s, IndexRange range, const std::string& path, PlotSize size) {
  stem_figure(s, range, size).save(path);
}

namespace {

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  std::string t = buf;
  if (t == "-0") t = "0";
  return t;
}

// Lower eighth blocks U+2581..U+2588 for positive bars.
const char* const kLower[9] = {" ", "\u2581", "\u2582", "\u2583", "\u2584",
                               "\u2585", "\u2586", "\u2587", "\u2588"};

}  // namespace

std::string terminal_plot(const Signal& s, IndexRange range, int columns, int rows, bool ascii) {
  check_range(range);
  if (columns < 40) throw UsageError("terminal plot needs at least 40 columns");
  if (rows < 4 || rows > 200) throw UsageError("terminal plot rows must be in 4..200");
  const std::int64_t N = range.last - range.first + 1;

  // Values, then the vertical scale.
  double vmax = 0, vmin = 0;
  for (std::int64_t n = range.first; n <= range.last; ++n) {
    const double v = sample_at(s, n);
    if (!std::isfinite(v)) continue;
    vmax = std::max(vmax, v);
    vmin = std::min(vmin, v);
  }
  if (vmax == 0 && vmin == 0) vmax = 1;
  const std::string top_label = short_number(vmax), bottom_label = short_number(vmin);
  const int label_w =
      static_cast<int>(std::max({top_label.size(), bottom_label.size(), std::size_t(1)}));
  const int avail = columns - label_w - 2;  // label, space, axis character

  // Columns: cw characters per sample when they fit, else resample.
  int ncol, cw;
  if (N <= avail) {
    ncol = static_cast<int>(N);
    cw = std::clamp(avail / ncol, 1, 8);
  } else {
    ncol = avail;
    cw = 1;
  }
  std::vector<double> col(ncol, 0.0);
  std::vector<std::int64_t> col_index(ncol);
  for (int j = 0; j < ncol; ++j) {
    const std::int64_t a = range.first + (N * j) / ncol;
    const std::int64_t b = range.first + (N * (j + 1)) / ncol;  // exclusive
    col_index[j] = a;
    double best = 0;
    for (std::int64_t n = a; n < std::max(b, a + 1); ++n) {
      const double v = sample_at(s, n);
      if (std::isfinite(v) && std::abs(v) > std::abs(best)) best = v;
    }
    col[j] = best;
  }
  const int bar_w = cw >= 2 ? std::clamp(cw / 2, 1, 2) : 1;

  int rows_pos = vmin < 0 ? static_cast<int>(std::lround(rows * vmax / (vmax - vmin))) : rows;
  if (vmax > 0) rows_pos = std::max(rows_pos, 1);
  if (vmin < 0) rows_pos = std::min(rows_pos, rows - 1);
  const int rows_neg = rows - rows_pos;

  auto pad_label = [&](const std::string& t) {
    return std::string(label_w - t.size(), ' ') + t + ' ';
  };
  const std::string axis = ascii ? "|" : "\u2502";
  std::string out;
  auto emit_row = [&](const std::string& label, auto&& cell) {
    std::string line = pad_label(label) + axis;
    for (int j = 0; j < ncol; ++j) {
      const std::string c = cell(col[j]);
      for (int k = 0; k < cw; ++k) line += k < bar_w ? c : " ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  };
  for (int r = 0; r < rows_pos; ++r) {
    const double base = static_cast<double>(rows_pos - 1 - r);
    emit_row(r == 0 ? top_label : "", [&](double v) -> std::string {
      if (!(v > 0)) return " ";
      const double fill = std::clamp(v / vmax * rows_pos - base, 0.0, 1.0);
      const int e = static_cast<int>(std::lround(fill * 8));
      if (ascii) return e >= 4 ? "#" : e >= 1 ? "." : " ";
      return kLower[e];
    });
  }
  {  // the zero line
    std::string line = pad_label("0") + (ascii ? "+" : "\u253c");
    for (int j = 0; j < ncol * cw; ++j) line += ascii ? "-" : "\u2500";
    out += line + '\n';
  }
  for (int r = 0; r < rows_neg; ++r) {
    emit_row(r == rows_neg - 1 ? bottom_label : "", [&](double v) -> std::string {
      if (!(v < 0)) return " ";
      const double fill = std::clamp(v / vmin * rows_neg - r, 0.0, 1.0);
      if (ascii) return fill >= 0.5 ? "#" : fill >= 0.125 ? "'" : " ";
      return fill >= 0.75 ? "\u2588" : fill >= 0.3 ? "\u2580" : fill >= 0.07 ? "\u2594" : " ";
    });
  }

  // Index labels under the first, last and a few evenly spaced columns.
  std::string labels(static_cast<std::size_t>(columns), ' ');
  int used_until = -1;
  const int x0 = label_w + 2;
  const int nlabels = std::max(2, std::min(ncol, (ncol * cw) / 10));
  for (int t = 0; t < nlabels; ++t) {
    const int j = nlabels == 1 ? 0 : static_cast<int>((static_cast<long>(ncol - 1) * t) / (nlabels - 1));
    const std::string txt = std::to_string(j == ncol - 1 ? range.last : col_index[j]);
    int pos = x0 + j * cw + bar_w / 2 - static_cast<int>(txt.size()) / 2;
    pos = std::clamp(pos, 0, columns - static_cast<int>(txt.size()));
    if (pos <= used_until) continue;
    labels.replace(static_cast<std::size_t>(pos), txt.size(), txt);
    used_until = pos + static_cast<int>(txt.size());
  }
  while (!labels.empty() && labels.back() == ' ') labels.pop_back();
  out += labels + '\n';
  return out;
}

}  // namespace convkit::plot
