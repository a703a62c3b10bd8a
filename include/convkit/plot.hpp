// convkit/plot.hpp — figures drawn into an RGB raster and written as PNG, and
// quick charts for the terminal.
//
// A Figure holds one or more Panels laid out in a grid; a Panel is one pair of
// axes with its title, axis labels, legend and the things drawn in it:
//   lines       polylines (training curves, fitted densities)
//   stems       stem plots of 1D signals (a marker on a vertical line from 0)
//   histograms  bars given by bin edges and heights (e.g. a density)
//   scatters    point clouds
//   ellipses    e.g. the 1- and 2-sigma contours of a 2D Gaussian
//   vlines      a labelled vertical marker (e.g. "beta = 3")
// Axis ranges default to the data (with a margin) rounded out to tick steps
// chosen as 1, 2 or 5 times a power of ten.
//
//   plot::Figure fig{640, 400};
//   auto& p = fig.add_panel("loss", "epoch", "loss");
//   p.lines.push_back({"train", epochs, train_loss, plot::palette(0)});
//   p.lines.push_back({"validation", epochs, val_loss, plot::palette(1)});
//   fig.save("curves.png");
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "convkit/io/image.hpp"
#include "convkit/io/text.hpp"

namespace convkit::plot {

struct Color {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Color&, const Color&) = default;
};

inline constexpr Color kBlack{0, 0, 0};
inline constexpr Color kWhite{255, 255, 255};
inline constexpr Color kGrid{225, 225, 225};

/// A qualitative colour cycle (blue, orange, green, red, purple, ...).
Color palette(int i);

/// An RGB raster, row-major, 3 bytes per pixel; (0,0) is the top-left corner.
class Canvas {
 public:
  Canvas(int width, int height, Color background = kWhite);

  int width() const { return width_; }
  int height() const { return height_; }
  Color at(int x, int y) const;
  const std::vector<std::uint8_t>& rgb() const { return rgb_; }
  /// The canvas as an 8-bit RGB convkit::Image (planar, values 0..255).
  Image to_image() const;

  /// Pixel writes outside the canvas, or outside the clip rectangle, are ignored.
  void set(int x, int y, Color c);
  /// Restrict drawing to [x0, x1) x [y0, y1); reset_clip() lifts it.
  void set_clip(int x0, int y0, int x1, int y1);
  void reset_clip() { set_clip(0, 0, width_, height_); }
  /// Mix c into the pixel with weight alpha in [0, 1].
  void blend(int x, int y, Color c, double alpha);
  /// Fill [x0, x1) x [y0, y1) (clipped), optionally translucent.
  void fill_rect(int x0, int y0, int x1, int y1, Color c, double alpha = 1.0);
  /// An antialiased line of the given thickness (pixels) between pixel centres.
  void line(double x0, double y0, double x1, double y1, Color c, double thickness = 1.0);
  /// A polyline; dashed draws dash/gap runs of about 6 * thickness pixels.
  void polyline(const std::vector<double>& xs, const std::vector<double>& ys, Color c,
                double thickness = 1.0, bool dashed = false);
  /// An antialiased filled disc.
  void disc(double cx, double cy, double radius, Color c, double alpha = 1.0);

  enum class Align { left, center, right };
  /// Text in the built-in font (stb_easy_font quads, scaled by an integer
  /// factor); y is the top of the line.  vertical = rotated 90 degrees
  /// counter-clockwise, reading bottom to top, x is then its left edge and y
  /// the vertical centre (align applies along the text).
  void text(int x, int y, std::string_view s, Color c, int scale = 1, Align align = Align::left,
            bool vertical = false);
  static int text_width(std::string_view s, int scale = 1);
  static int text_height(int scale = 1);

 private:
  int width_, height_;
  int cx0_ = 0, cy0_ = 0, cx1_ = 0, cy1_ = 0;  // clip rectangle
  std::vector<std::uint8_t> rgb_;
};

/// Write the canvas as an 8-bit RGB PNG through write_image (convkit/io/image.hpp);
/// the file appears atomically.  "-" = standard output.
void save_png(const Canvas& canvas, const std::string& path);
/// True when the path ends in .png (any case).
bool is_png_path(const std::string& path);

// ---- figure description -----------------------------------------------------

struct LineSeries {
  std::string label;
  std::vector<double> x, y;
  Color color = palette(0);
  double width = 2.0;
  bool dashed = false;
  bool markers = false;  ///< a dot at each point
};

struct StemSeries {
  std::string label;
  std::vector<double> x, y;
  Color color = palette(0);
};

struct HistogramSeries {
  std::string label;
  std::vector<double> edges;    ///< bins+1 increasing edges
  std::vector<double> heights;  ///< one per bin
  Color color = palette(0);
  double alpha = 0.45;
};

struct ScatterSeries {
  std::string label;
  std::vector<double> x, y;
  Color color = palette(0);
  double radius = 1.6;
  double alpha = 0.35;
};

struct EllipseSeries {
  std::string label;
  double cx = 0, cy = 0;
  double semi_major = 1, semi_minor = 1;
  double angle = 0;  ///< of the major axis, radians, counter-clockwise from +x
  Color color = palette(0);
  double width = 2.0;
  bool dashed = false;
  bool show_center = true;
};

struct VLine {
  double x = 0;
  std::string label;
  Color color = kBlack;
  bool dashed = true;
};

struct Panel {
  std::string title, xlabel, ylabel;
  std::vector<HistogramSeries> histograms;
  std::vector<ScatterSeries> scatters;
  std::vector<LineSeries> lines;
  std::vector<StemSeries> stems;
  std::vector<EllipseSeries> ellipses;
  std::vector<VLine> vlines;
  std::optional<double> xmin, xmax, ymin, ymax;  ///< fixed limits; otherwise from the data
  bool equal_aspect = false;  ///< one unit is as long on both axes (ellipses look right)
  bool integer_x = false;     ///< x ticks only on integers (sample indices)
  bool legend = true;
};

struct Figure {
  int width = 800, height = 500;
  std::string title;
  std::vector<Panel> panels;
  int columns = 0;     ///< panels per row; 0 = all in one row
  int font_scale = 0;  ///< 0 = chosen from the figure size

  Panel& add_panel(std::string panel_title = "", std::string xlabel = "", std::string ylabel = "");
  /// Draw; throws UsageError for a size below 64x48 or above 8192x8192.
  Canvas render() const;
  void save(const std::string& path) const { save_png(render(), path); }
};

// ---- helpers ----------------------------------------------------------------

/// Tick positions inside [lo, hi] (about `target` of them): the multiples of
/// a step that is 1, 2 or 5 times a power of ten.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
/// The tick step nice_ticks uses.
double nice_step(double lo, double hi, int target = 6);
/// Label for a tick value given the step (enough decimals, no "-0").
std::string tick_label(double v, double step);

/// The k-sigma contour of a 2D Gaussian with covariance [sxx sxy; sxy syy]:
/// semi-axes k*sqrt(eigenvalues), major axis angle in radians.
struct EllipseAxes {
  double semi_major = 0, semi_minor = 0, angle = 0;
};
EllipseAxes covariance_ellipse(double sxx, double sxy, double syy, double k = 1.0);

/// Histogram of values as a density (area 1): `bins` equal bins over [lo, hi].
HistogramSeries density_histogram(const std::vector<double>& values, int bins, double lo,
                                  double hi);
/// Freedman–Diaconis-style bin count clamped to [10, 80].
int auto_bins(std::size_t n);
/// A Gaussian density curve with mean/variance over [lo, hi], `points` samples.
LineSeries gaussian_curve(double mean, double var, double lo, double hi, int points = 200);

// ---- 1D signals ---------------------------------------------------------------

/// A closed index range [first, last] of a signal.
struct IndexRange {
  std::int64_t first = 0, last = 0;
};
/// The signal's own support, [origin, origin + size - 1].
IndexRange signal_range(const Signal& s);
/// Parse "A:B" (A <= B, integers, either may be negative); throws UsageError.
IndexRange parse_index_range(const std::string& text);

struct PlotSize {
  int width = 800, height = 450;
};

/// A stem-plot figure of x[n] for n in range (zeros outside the signal's support).
Figure stem_figure(const Signal& s, IndexRange range, PlotSize size, const std::string& title = "",
                   const std::string& label = "");
/// Stem plot of a signal written to a PNG file (atomically).
void plot_stem(const Signal& s, IndexRange range, const std::string& path, PlotSize size = {});

/// A chart of x[n], n in range, for a terminal: at most `columns` characters
/// per line (columns >= 40), `rows` text rows of bars (>= 4), Unicode block
/// characters, or plain ASCII ('#', '=') when ascii is true.  Every line ends
/// with '\n'.  Long signals are resampled: each column shows the sample of
/// largest magnitude it covers.
std::string terminal_plot(const Signal& s, IndexRange range, int columns = 80, int rows = 12,
                          bool ascii = false);

// ---- training curves --------------------------------------------------------

/// Per-epoch metrics of a training run; any vector may be empty (then not drawn).
struct TrainingHistory {
  std::vector<double> epoch;
  std::vector<double> train_loss, val_loss;
  std::vector<double> train_accuracy, val_accuracy;  ///< fractions 0..1 or percent
};
/// Loss (left panel) and accuracy (right panel) against epoch, train solid
/// and validation dashed; one panel when there is no accuracy.
Figure training_curves(const TrainingHistory& h, PlotSize size = {900, 400},
                       const std::string& title = "");

// ---- convolution kernels ------------------------------------------------------

/// The kernels of a convolution layer (weights F x C x K x K, row-major) as an
/// image grid: one block per filter, in rows of ceil(sqrt(F)) blocks; a block
/// is one colour tile when C == 3 (channels as R, G, B), else C grey tiles side
/// by side.  Every weight is a square of `cell` pixels whose value is
/// 128 + 127 w / m, rounded, with m the largest |w| of the layer (0 is mid grey,
/// the strongest weights black or white).  Tiles are 2 pixels apart, blocks 6,
/// on a white margin of 6.
struct FilterGrid {
  int columns = 0, rows = 0, cell = 0, block_width = 0, block_height = 0;
  double scale = 0;  ///< m
};
FilterGrid filter_grid_layout(int filters, int channels, int kernel, const float* weights);
Canvas filter_grid(const float* weights, int filters, int channels, int kernel);

}  // namespace convkit::plot
