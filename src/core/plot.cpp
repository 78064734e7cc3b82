#include "core/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/io.h"

namespace steper {

namespace {

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string fmt_num(double v) {
  char buf[32];
  if (v == 0) return "0";
  double a = std::fabs(v);
  if (a >= 1e5 || a < 1e-3) std::snprintf(buf, sizeof buf, "%.3g", v);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string fmt_px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  bool empty() const { return !(lo <= hi); }
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  void widen() {  // a single value or an empty range still gets a visible axis
    if (empty()) {
      lo = 0;
      hi = 1;
    } else if (lo == hi) {
      double d = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
  }
};

}  // namespace

// ---- helpers -------------------------------------------------------------------------------------

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> plot_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo || target < 1) return ticks;
  if (hi == lo) return {lo};
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double r = raw / mag, step = r < 1.5 ? mag : r < 3 ? 2 * mag : r < 7 ? 5 * mag : 10 * mag;
  double first = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0; i < 1000; ++i) {
    double t = first + i * step;
    if (t > hi + step * 1e-9) break;
    if (std::fabs(t) < step * 1e-9) t = 0;  // no "-0" or 1e-17
    ticks.push_back(t);
  }
  return ticks;
}

// ---- the frame both charts share -----------------------------------------------------------------

namespace {

// The layout of a chart: margins, the plotting area and the y mapping (linear or log10 values).
struct Frame {
  double W, H, left, right = 16, top, bottom, pw, ph;
  Range yr;
  std::vector<double> yt;  // y ticks, in mapped units
  bool log_y = false;
  double py(double y) const { return top + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; }
};

Frame frame_make(const PlotOptions& opts, size_t legend_entries, Range yr) {
  Frame f;
  f.W = std::max(opts.width, 200);
  f.H = std::max(opts.height, 150);
  f.left = 64;
  f.top = opts.title.empty() ? 16 : 36;
  f.bottom = 44 + 18.0 * ((legend_entries + 2) / 3);
  f.pw = f.W - f.left - f.right;
  f.ph = f.H - f.top - f.bottom;
  f.log_y = opts.log_y;
  yr.widen();
  if (opts.log_y) {
    // 1, 2, 5 times powers of ten inside the data range; decades alone when that gives enough
    std::vector<double> decades, all;
    for (double e = std::floor(yr.lo); e <= std::ceil(yr.hi); e += 1)
      for (double m : {1.0, 2.0, 5.0}) {
        double v = e + std::log10(m);
        if (v < yr.lo - 1e-9 || v > yr.hi + 1e-9) continue;
        all.push_back(v);
        if (m == 1.0) decades.push_back(v);
      }
    f.yt = decades.size() >= 3 ? decades : all;
    if (f.yt.size() < 2) f.yt = plot_ticks(yr.lo, yr.hi, 5);
  } else {
    f.yt = plot_ticks(yr.lo, yr.hi, 5);
  }
  // extend the range to the outermost ticks so the frame ends on a labelled value
  if (!f.yt.empty()) {
    yr.lo = std::min(yr.lo, f.yt.front());
    yr.hi = std::max(yr.hi, f.yt.back());
  }
  f.yr = yr;
  return f;
}

// The SVG's opening, background, title, the y grid with its ticks and label, the plotting area's border
// and the x label; vertical grid lines at x_grid (pixels).
std::string frame_open(const Frame& f, const PlotOptions& opts, const std::vector<double>& x_grid) {
  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt_px(f.W) + "\" height=\"" + fmt_px(f.H) +
       "\" viewBox=\"0 0 " + fmt_px(f.W) + " " + fmt_px(f.H) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  o += "<rect x=\"0\" y=\"0\" width=\"" + fmt_px(f.W) + "\" height=\"" + fmt_px(f.H) + "\" fill=\"white\"/>\n";
  if (!opts.title.empty())
    o += "<text class=\"title\" x=\"" + fmt_px(f.W / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" +
         xml_escape(opts.title) + "</text>\n";
  o += "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (double x : x_grid)
    o += "<line x1=\"" + fmt_px(x) + "\" y1=\"" + fmt_px(f.top) + "\" x2=\"" + fmt_px(x) + "\" y2=\"" +
         fmt_px(f.top + f.ph) + "\"/>\n";
  for (double t : f.yt)
    o += "<line x1=\"" + fmt_px(f.left) + "\" y1=\"" + fmt_px(f.py(t)) + "\" x2=\"" + fmt_px(f.left + f.pw) +
         "\" y2=\"" + fmt_px(f.py(t)) + "\"/>\n";
  o += "</g>\n";
  o += "<rect x=\"" + fmt_px(f.left) + "\" y=\"" + fmt_px(f.top) + "\" width=\"" + fmt_px(f.pw) + "\" height=\"" +
       fmt_px(f.ph) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  o += "<g class=\"yticks\" text-anchor=\"end\">\n";
  for (double t : f.yt) {
    std::string label = f.log_y ? fmt_num(std::pow(10.0, t)) : fmt_num(t);
    o += "<text x=\"" + fmt_px(f.left - 5) + "\" y=\"" + fmt_px(f.py(t) + 4) + "\">" + label + "</text>\n";
  }
  o += "</g>\n";
  if (!opts.x_label.empty())
    o += "<text class=\"xlabel\" x=\"" + fmt_px(f.left + f.pw / 2) + "\" y=\"" + fmt_px(f.top + f.ph + 32) +
         "\" text-anchor=\"middle\">" + xml_escape(opts.x_label) + "</text>\n";
  if (!opts.y_label.empty())
    o += "<text class=\"ylabel\" x=\"14\" y=\"" + fmt_px(f.top + f.ph / 2) +
         "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + fmt_px(f.top + f.ph / 2) + ")\">" +
         xml_escape(opts.y_label) + "</text>\n";
  return o;
}

// The legend below the x label, three entries a row, and the SVG's end.
std::string frame_close(const Frame& f, const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string o = "<g class=\"legend\">\n";
  for (size_t si = 0; si < entries.size(); ++si) {
    const auto& [name, color] = entries[si];
    double lx = f.left + (si % 3) * (f.pw / 3), ly = f.top + f.ph + 50 + 18.0 * (si / 3);
    o += "<line x1=\"" + fmt_px(lx) + "\" y1=\"" + fmt_px(ly - 4) + "\" x2=\"" + fmt_px(lx + 18) + "\" y2=\"" +
         fmt_px(ly - 4) + "\" stroke=\"" + xml_escape(color) + "\" stroke-width=\"3\"/>\n";
    o += "<text x=\"" + fmt_px(lx + 24) + "\" y=\"" + fmt_px(ly) + "\">" + xml_escape(name) + "</text>\n";
  }
  return o + "</g>\n</svg>\n";
}

std::string color_of(const std::string& chosen, size_t index) { return chosen.empty() ? kPalette[index % 10] : chosen; }

}  // namespace

// ---- the line chart ------------------------------------------------------------------------------

std::string plot_svg(const std::vector<PlotSeries>& series, const PlotOptions& opts) {
  auto y_ok = [&](double y) { return std::isfinite(y) && (!opts.log_y || y > 0); };
  auto y_map = [&](double y) { return opts.log_y ? std::log10(y) : y; };
  Range xr, yr;
  for (const auto& s : series) {
    size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.x[i]) || !y_ok(s.y[i])) continue;
      xr.add(s.x[i]);
      yr.add(y_map(s.y[i]));
    }
  }
  xr.widen();
  const Frame f = frame_make(opts, series.size(), yr);
  std::vector<double> xt = plot_ticks(xr.lo, xr.hi, 6);
  auto px = [&](double x) { return f.left + (x - xr.lo) / (xr.hi - xr.lo) * f.pw; };
  std::vector<double> x_grid;
  for (double t : xt) x_grid.push_back(px(t));
  std::string o = frame_open(f, opts, x_grid);
  o += "<g class=\"xticks\" text-anchor=\"middle\">\n";
  for (double t : xt)
    o += "<text x=\"" + fmt_px(px(t)) + "\" y=\"" + fmt_px(f.top + f.ph + 15) + "\">" + fmt_num(t) + "</text>\n";
  o += "</g>\n";

  // series: one path each, split where a point is missing
  std::vector<std::pair<std::string, std::string>> legend;
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& s = series[si];
    std::string color = color_of(s.color, si);
    legend.push_back({s.name, color});
    std::string d;
    bool pen_down = false;
    size_t points = 0;
    size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.x[i]) || !y_ok(s.y[i])) {
        pen_down = false;
        continue;
      }
      d += (pen_down ? " L" : (d.empty() ? "M" : " M")) + fmt_px(px(s.x[i])) + " " + fmt_px(f.py(y_map(s.y[i])));
      pen_down = true;
      ++points;
    }
    o += "<g class=\"series\" data-name=\"" + xml_escape(s.name) + "\">\n";
    if (points == 1) {  // a lone point is invisible as a path
      size_t sp = d.find(' ');
      o += "<circle cx=\"" + d.substr(1, sp - 1) + "\" cy=\"" + d.substr(sp + 1) + "\" r=\"2.5\" fill=\"" +
           xml_escape(color) + "\"/>\n";
    } else if (points > 1) {
      o += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + xml_escape(color) +
           "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"/>\n";
    }
    o += "</g>\n";
  }
  return o + frame_close(f, legend);
}

// ---- the category chart --------------------------------------------------------------------------

std::string plot_categories_svg(const std::vector<std::string>& categories, const std::vector<CategorySeries>& series,
                                const PlotOptions& opts) {
  Range yr;
  for (const auto& s : series)
    for (const auto& p : s.points) {
      for (double v : {p.value, p.lo, p.hi})
        if (std::isfinite(v)) yr.add(v);
      for (double v : p.dots)
        if (std::isfinite(v)) yr.add(v);
    }
  const Frame f = frame_make(opts, series.size(), yr);
  const double slot = f.pw / static_cast<double>(std::max<size_t>(categories.size(), 1));
  const double band = slot * 0.6;  // the series of a category share the middle of its slot
  auto cx = [&](size_t c, size_t si) {
    double offset = series.size() <= 1 ? 0.0
                                       : band * (static_cast<double>(si) / static_cast<double>(series.size() - 1) - 0.5);
    return f.left + slot * (static_cast<double>(c) + 0.5) + offset;
  };
  std::vector<double> x_grid;
  for (size_t c = 1; c < categories.size(); ++c) x_grid.push_back(f.left + slot * static_cast<double>(c));
  std::string o = frame_open(f, opts, x_grid);
  o += "<g class=\"xticks\" text-anchor=\"middle\">\n";
  for (size_t c = 0; c < categories.size(); ++c)
    o += "<text x=\"" + fmt_px(f.left + slot * (static_cast<double>(c) + 0.5)) + "\" y=\"" +
         fmt_px(f.top + f.ph + 15) + "\">" + xml_escape(categories[c]) + "</text>\n";
  o += "</g>\n";
  std::vector<std::pair<std::string, std::string>> legend;
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& s = series[si];
    const std::string color = xml_escape(color_of(s.color, si));
    legend.push_back({s.name, color_of(s.color, si)});
    o += "<g class=\"series\" data-name=\"" + xml_escape(s.name) + "\">\n";
    for (size_t c = 0; c < std::min(categories.size(), s.points.size()); ++c) {
      const CategoryPoint& p = s.points[c];
      const double x = cx(c, si);
      if (std::isfinite(p.lo) && std::isfinite(p.hi))
        o += "<line class=\"interval\" x1=\"" + fmt_px(x) + "\" y1=\"" + fmt_px(f.py(p.lo)) + "\" x2=\"" + fmt_px(x) +
             "\" y2=\"" + fmt_px(f.py(p.hi)) + "\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
      for (size_t d = 0; d < p.dots.size(); ++d) {
        if (!std::isfinite(p.dots[d])) continue;
        const double jitter = (static_cast<double>(d % 5) - 2.0) * 2.5;  // runs with equal scores stay apart
        o += "<circle class=\"dot\" cx=\"" + fmt_px(x + 7 + jitter) + "\" cy=\"" + fmt_px(f.py(p.dots[d])) +
             "\" r=\"2.5\" fill=\"none\" stroke=\"" + color + "\"/>\n";
      }
      if (std::isfinite(p.value))
        o += "<rect class=\"value\" x=\"" + fmt_px(x - 4) + "\" y=\"" + fmt_px(f.py(p.value) - 1.5) +
             "\" width=\"8\" height=\"3\" fill=\"" + color + "\"/>\n";
    }
    o += "</g>\n";
  }
  return o + frame_close(f, legend);
}

void plot_write_svg(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& opts) {
  write_file_atomic(path, plot_svg(series, opts));
}

}  // namespace steper
