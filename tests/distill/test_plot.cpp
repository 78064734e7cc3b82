// SVG line charts: well-formed, contain every series, survive NaN and empty input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <vector>

#include "core/plot.h"

namespace steper {
namespace {

// Tags balance: every <x ...> is closed by </x> or self-closed, in order.
bool tags_balance(const std::string& s, std::string* why) {
  std::vector<std::string> stack;
  size_t i = 0;
  while ((i = s.find('<', i)) != std::string::npos) {
    size_t j = s.find('>', i);
    if (j == std::string::npos) {
      *why = "unterminated tag";
      return false;
    }
    std::string tag = s.substr(i + 1, j - i - 1);
    if (tag.empty()) {
      *why = "empty tag";
      return false;
    }
    if (tag[0] == '/') {
      std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) {
        *why = "mismatched </" + name + ">";
        return false;
      }
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
    i = j + 1;
  }
  if (!stack.empty()) *why = "unclosed <" + stack.back() + ">";
  return stack.empty();
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

TEST(Plot, TicksAreNiceAndCoverTheRange) {
  std::vector<double> t = plot_ticks(0.0, 1.0, 5);
  ASSERT_EQ(t.size(), 6u);  // 0, 0.2, ..., 1
  EXPECT_DOUBLE_EQ(t.front(), 0.0);
  EXPECT_NEAR(t.back(), 1.0, 1e-12);
  std::vector<double> u = plot_ticks(3.0, 1234.0, 5);
  ASSERT_GE(u.size(), 3u);
  double step = u[1] - u[0];
  EXPECT_NEAR(step, 200.0, 1e-9);  // 1,2,5 x 10^k
  EXPECT_GE(u.front(), 3.0);
  EXPECT_LE(u.back(), 1234.0);
  EXPECT_TRUE(plot_ticks(NAN, 1.0).empty());
}

TEST(Plot, SvgContainsSeriesLabelsAndBalancedTags) {
  PlotSeries a{"loss <init>", {0, 1, 2, 3}, {2.5, 1.5, 1.0, 0.8}, ""};
  PlotSeries b{"loss agg", {0, 1, 2, 3}, {3.0, 2.0, 1.2, 0.6}, "#000"};
  PlotOptions o;
  o.title = "Per-task loss & more";
  o.x_label = "step";
  o.y_label = "cross-entropy";
  std::string svg = plot_svg({a, b}, o);
  std::string why;
  EXPECT_TRUE(tags_balance(svg, &why)) << why;
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("loss &lt;init&gt;"), std::string::npos);  // escaped
  EXPECT_EQ(svg.find("loss <init>"), std::string::npos);
  EXPECT_NE(svg.find("Per-task loss &amp; more"), std::string::npos);
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_NE(svg.find(">cross-entropy</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<path "), 2u);
  EXPECT_NE(svg.find("stroke=\"#000\""), std::string::npos);
  // every point of the first series is drawn: M + 3 L
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("<path d=\"(M[^\"]*)\"")));
  EXPECT_EQ(count(m[1].str(), "L"), 3u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(Plot, HigherValuesAreDrawnHigher) {
  PlotSeries a{"a", {0, 1}, {0.0, 10.0}, ""};
  std::string svg = plot_svg({a}, PlotOptions());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("<path d=\"M([0-9.]+) ([0-9.]+) L([0-9.]+) ([0-9.]+)\"")));
  EXPECT_LT(std::stod(m[1].str()), std::stod(m[3].str()));  // x grows to the right
  EXPECT_GT(std::stod(m[2].str()), std::stod(m[4].str()));  // y grows upwards (SVG y grows down)
}

TEST(Plot, NanBreaksTheLineAndEmptySeriesAreHarmless) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  PlotSeries a{"gappy", {0, 1, 2, 3, 4}, {1.0, 2.0, nan, 3.0, 4.0}, ""};
  PlotSeries e{"empty", {}, {}, ""};
  PlotSeries all_nan{"all missing", {0, 1}, {nan, nan}, ""};
  PlotSeries single{"single", {2}, {2.5}, ""};
  std::string svg = plot_svg({a, e, all_nan, single}, PlotOptions());
  std::string why;
  EXPECT_TRUE(tags_balance(svg, &why)) << why;
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_EQ(count(svg, "<path "), 1u);
  EXPECT_EQ(count(svg, "<circle "), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("<path d=\"(M[^\"]*)\"")));
  EXPECT_EQ(count(m[1].str(), "M"), 2u);  // two pieces
  EXPECT_NE(svg.find(">empty</text>"), std::string::npos);  // still in the legend
  // nothing at all to draw
  std::string none = plot_svg({}, PlotOptions());
  EXPECT_TRUE(tags_balance(none, &why)) << why;
  EXPECT_EQ(none.find("nan"), std::string::npos);
}

TEST(Plot, LogScaleSkipsNonPositive) {
  PlotSeries a{"a", {0, 1, 2}, {0.0, 1.0, 100.0}, ""};
  PlotOptions o;
  o.log_y = true;
  std::string svg = plot_svg({a}, o);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_NE(svg.find(">100</text>"), std::string::npos);
}

// The category chart: categories named under the axis and nothing between them; per series and category
// one value mark, an interval bar where both ends are finite, a dot per run; higher values drawn higher.
TEST(Plot, CategoriesAreNamedAndCarryValuesIntervalsAndDots) {
  CategorySeries a{"IRCoT", {}, ""}, b{"Self-Ask", {}, ""};
  CategoryPoint p1;
  p1.value = 30;
  p1.lo = 25;
  p1.hi = 36;
  p1.dots = {28, 31, 31};
  CategoryPoint p2;
  p2.value = 60;
  a.points = {p1, p2};
  CategoryPoint q1;
  q1.value = 10;
  b.points = {q1, CategoryPoint{}};  // no value: nothing drawn
  PlotOptions po;
  po.title = "EM";
  std::string svg = plot_categories_svg({"2 hops", "3 hops"}, {a, b}, po);
  std::string why;
  EXPECT_TRUE(tags_balance(svg, &why)) << why;
  EXPECT_NE(svg.find(">2 hops</text>"), std::string::npos);
  EXPECT_NE(svg.find(">3 hops</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">2.5</text>"), std::string::npos) << "a category axis has no numbers between categories";
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = svg.find(what); at != std::string::npos; at = svg.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("class=\"value\""), 3u);
  EXPECT_EQ(count("class=\"interval\""), 1u);
  EXPECT_EQ(count("class=\"dot\""), 3u);
  // the 60 mark is above the 30 mark (smaller y in SVG)
  std::smatch m;
  std::vector<double> ys;
  std::string rest = svg;
  while (std::regex_search(rest, m, std::regex("class=\"value\" x=\"[0-9.]+\" y=\"([0-9.]+)\""))) {
    ys.push_back(std::stod(m[1]));
    rest = m.suffix();
  }
  ASSERT_EQ(ys.size(), 3u);
  EXPECT_LT(ys[1], ys[0]);
  EXPECT_GT(ys[2], ys[0]);
}

}  // namespace
}  // namespace steper
