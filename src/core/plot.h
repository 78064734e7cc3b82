// Standalone SVG line charts (training curves, sigma trajectories, report figures). Torch-free.
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace steper {

struct PlotSeries {
  std::string name;       // shown in the legend
  std::vector<double> x;  // same length as y; non-finite points break the line
  std::vector<double> y;
  std::string color;      // CSS colour; empty picks one from the default palette
};

struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  int width = 640;
  int height = 400;
  bool log_y = false;     // log10 y axis (non-positive values are skipped)
};

// A category chart: categories spread evenly along x, named under it (no numeric axis: "2 hops" and
// "3 hops" are categories, nothing lies between them); in each, one mark per series at `value`, with a
// vertical bar from lo to hi where both are finite (an interval) and hollow dots (e.g. each training run).
struct CategoryPoint {
  double value = std::numeric_limits<double>::quiet_NaN();
  double lo = std::numeric_limits<double>::quiet_NaN(), hi = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> dots;
};
struct CategorySeries {
  std::string name;
  std::vector<CategoryPoint> points;  // one per category, in the categories' order
  std::string color;
};
std::string plot_categories_svg(const std::vector<std::string>& categories, const std::vector<CategorySeries>& series,
                                const PlotOptions& opts);

// One line chart as a complete SVG document (XML declaration-free, embeddable in HTML).
// Empty series and series with no finite points are listed in the legend and drawn as nothing.
std::string plot_svg(const std::vector<PlotSeries>& series, const PlotOptions& opts);
// Writes plot_svg(...) atomically to path.
void plot_write_svg(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& opts);

// "Nice" tick values covering [lo, hi] (about `target` of them, steps of 1, 2 or 5 times a power of ten).
std::vector<double> plot_ticks(double lo, double hi, int target = 5);
// Escapes &, <, >, " and ' for XML text and attributes.
std::string xml_escape(const std::string& text);

}  // namespace steper
