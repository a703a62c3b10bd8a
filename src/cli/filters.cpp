// convkit filters — the named kernels of the filters library.
#include <cstdio>
#include <string>

#include "cli/command.hpp"
#include "convkit/filters.hpp"
#include "convkit/io/text.hpp"

namespace convkit::cli {

namespace {

struct FiltersCli {
  std::string format = "table";
  std::vector<std::string> names;
};

std::string size_of(int rows, int cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

void print_kernel(const Kernel& k) {
  std::printf("# %s (%s)%s%s\n", k.name.c_str(), size_of(k.rows, k.cols).c_str(),
              k.description.empty() ? "" : ": ", k.description.c_str());
  for (int r = 0; r < k.rows; ++r) {
    for (int c = 0; c < k.cols; ++c)
      std::printf("%s%.17g", c ? " " : "", k.data[static_cast<std::size_t>(r) * k.cols + c]);
    std::printf("\n");
  }
}

void run_filters(const FiltersCli& o) {
  if (!o.names.empty()) {
    for (std::size_t i = 0; i < o.names.size(); ++i) {
      if (i) std::printf("\n");
      print_kernel(load_kernel(o.names[i]));
    }
    return;
  }
  std::vector<FilterInfo> all = list_filters();
  if (o.format == "json") {
    std::printf("[\n");
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& f = all[i];
      std::printf(
          "  {\"name\": %s, \"rows\": %d, \"cols\": %d, \"description\": %s, \"path\": %s}%s\n",
          json_string(f.name).c_str(), f.rows, f.cols, json_string(f.description).c_str(),
          json_string(f.path).c_str(), i + 1 < all.size() ? "," : "");
    }
    std::printf("]\n");
    return;
  }
  std::size_t wn = 4, ws = 4;
  for (const auto& f : all) {
    wn = std::max(wn, f.name.size());
    ws = std::max(ws, size_of(f.rows, f.cols).size());
  }
  std::printf("%-*s  %-*s  %s\n", static_cast<int>(wn), "NAME", static_cast<int>(ws), "SIZE",
              "DESCRIPTION");
  for (const auto& f : all)
    std::printf("%-*s  %-*s  %s\n", static_cast<int>(wn), f.name.c_str(), static_cast<int>(ws),
                size_of(f.rows, f.cols).c_str(), f.description.c_str());
}

void register_filters(CLI::App& app) {
  static FiltersCli o;
  CLI::App* sub = app.add_subcommand(
      "filters", "List the named kernels of the filters library, or print some of them");
  sub->add_option("names", o.names, "Print these kernels (names, files or literals) instead");
  sub->add_option("--format", o.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->default_val("table");
  sub->footer(
      "A name works wherever a kernel is taken, e.g. 'convkit convolve img.png sobel-x'.\n"
      "Kernels are stored for true convolution (convkit convolve's default), so the\n"
      "derivative filters are the mirror images of OpenCV's correlation masks and give\n"
      "OpenCV's signs: sobel-x is positive where intensity grows to the right.\n"
      "The library is read from $CONVKIT_FILTERS_DIR when set, else from the build tree or\n"
      "the installed share/convkit/filters.\n\n"
      "Examples:\n"
      "  convkit filters                   # name, size, description\n"
      "  convkit filters --format json\n"
      "  convkit filters sobel-x seed-h    # print the matrices");
  sub->callback([] { run_filters(o); });
}

}  // namespace

CONVKIT_COMMAND(30, register_filters);

}  // namespace convkit::cli
