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

// ---- the chart -----------------------------------------------------------------------------------

std::string plot_svg(const std::vector<PlotSeries>& series, const PlotOptions& opts) {
  const double W = std::max(opts.width, 200), H = std::max(opts.height, 150);
  const double left = 64, right = 16, top = opts.title.empty() ? 16 : 36;
  const double legend_h = 18.0 * ((series.size() + 2) / 3);
  const double bottom = 44 + legend_h;
  const double pw = W - left - right, ph = H - top - bottom;

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
  yr.widen();
  std::vector<double> xt = plot_ticks(xr.lo, xr.hi, 6);
  std::vector<double> yt;
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
    yt = decades.size() >= 3 ? decades : all;
    if (yt.size() < 2) yt = plot_ticks(yr.lo, yr.hi, 5);
  } else {
    yt = plot_ticks(yr.lo, yr.hi, 5);
  }
  // extend the ranges to the outermost ticks so the frame ends on a labelled value
  if (!yt.empty()) {
    yr.lo = std::min(yr.lo, yt.front());
    yr.hi = std::max(yr.hi, yt.back());
  }
  auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto py = [&](double y) { return top + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; };

  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt_px(W) + "\" height=\"" + fmt_px(H) +
       "\" viewBox=\"0 0 " + fmt_px(W) + " " + fmt_px(H) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  o += "<rect x=\"0\" y=\"0\" width=\"" + fmt_px(W) + "\" height=\"" + fmt_px(H) + "\" fill=\"white\"/>\n";
  if (!opts.title.empty())
    o += "<text class=\"title\" x=\"" + fmt_px(W / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" +
         xml_escape(opts.title) + "</text>\n";

  // grid and ticks
  o += "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (double t : xt)
    o += "<line x1=\"" + fmt_px(px(t)) + "\" y1=\"" + fmt_px(top) + "\" x2=\"" + fmt_px(px(t)) + "\" y2=\"" +
         fmt_px(top + ph) + "\"/>\n";
  for (double t : yt)
    o += "<line x1=\"" + fmt_px(left) + "\" y1=\"" + fmt_px(py(t)) + "\" x2=\"" + fmt_px(left + pw) + "\" y2=\"" +
         fmt_px(py(t)) + "\"/>\n";
  o += "</g>\n";
  o += "<rect x=\"" + fmt_px(left) + "\" y=\"" + fmt_px(top) + "\" width=\"" + fmt_px(pw) + "\" height=\"" +
       fmt_px(ph) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  o += "<g class=\"xticks\" text-anchor=\"middle\">\n";
  for (double t : xt)
    o += "<text x=\"" + fmt_px(px(t)) + "\" y=\"" + fmt_px(top + ph + 15) + "\">" + fmt_num(t) + "</text>\n";
  o += "</g>\n<g class=\"yticks\" text-anchor=\"end\">\n";
  for (double t : yt) {
    std::string label = opts.log_y ? fmt_num(std::pow(10.0, t)) : fmt_num(t);
    o += "<text x=\"" + fmt_px(left - 5) + "\" y=\"" + fmt_px(py(t) + 4) + "\">" + label + "</text>\n";
  }
  o += "</g>\n";
  if (!opts.x_label.empty())
    o += "<text class=\"xlabel\" x=\"" + fmt_px(left + pw / 2) + "\" y=\"" + fmt_px(top + ph + 32) +
         "\" text-anchor=\"middle\">" + xml_escape(opts.x_label) + "</text>\n";
  if (!opts.y_label.empty())
    o += "<text class=\"ylabel\" x=\"14\" y=\"" + fmt_px(top + ph / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " +
         fmt_px(top + ph / 2) + ")\">" + xml_escape(opts.y_label) + "</text>\n";

  // series: one path each, split where a point is missing
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& s = series[si];
    std::string color = s.color.empty() ? kPalette[si % 10] : s.color;
    std::string d;
    bool pen_down = false;
    size_t points = 0;
    size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.x[i]) || !y_ok(s.y[i])) {
        pen_down = false;
        continue;
      }
      d += (pen_down ? " L" : (d.empty() ? "M" : " M")) + fmt_px(px(s.x[i])) + " " + fmt_px(py(y_map(s.y[i])));
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

  // legend below the axis label, three entries a row
  o += "<g class=\"legend\">\n";
  for (size_t si = 0; si < series.size(); ++si) {
    std::string color = series[si].color.empty() ? kPalette[si % 10] : series[si].color;
    double lx = left + (si % 3) * (pw / 3), ly = top + ph + 50 + 18.0 * (si / 3);
    o += "<line x1=\"" + fmt_px(lx) + "\" y1=\"" + fmt_px(ly - 4) + "\" x2=\"" + fmt_px(lx + 18) + "\" y2=\"" +
         fmt_px(ly - 4) + "\" stroke=\"" + xml_escape(color) + "\" stroke-width=\"3\"/>\n";
    o += "<text x=\"" + fmt_px(lx + 24) + "\" y=\"" + fmt_px(ly) + "\">" + xml_escape(series[si].name) + "</text>\n";
  }
  o += "</g>\n</svg>\n";
  return o;
}

void plot_write_svg(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& opts) {
  write_file_atomic(path, plot_svg(series, opts));
}

}  // namespace steper
