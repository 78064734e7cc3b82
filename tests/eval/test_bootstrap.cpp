// The bootstrap against figures computed by hand: the normal approximation of a mean's sampling
// distribution, and the exact resampling distribution of two values.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "eval/bootstrap.h"

namespace steper {
namespace {

TEST(Bootstrap, IntervalMatchesTheNormalApproximation) {
  std::vector<double> v;
  for (int i = 0; i < 400; ++i) v.push_back(i % 2 == 0 ? 1.0 : 0.0);
  auto ci = bootstrap_mean_interval(v, 2000, 42);
  double half = 1.96 * std::sqrt(0.25 / 400);  // 0.049
  EXPECT_NEAR(ci.first, 0.5 - half, 0.01);
  EXPECT_NEAR(ci.second, 0.5 + half, 0.01);
  EXPECT_EQ(ci, bootstrap_mean_interval(v, 2000, 42));  // seeded
  EXPECT_NE(ci, bootstrap_mean_interval(v, 2000, 43));
}

TEST(Bootstrap, TwoValuesGiveTheExactResamplingPercentiles) {
  // Resample means of {0, 100} are 0, 50, 100 with probabilities 1/4, 1/2, 1/4: the 2.5th percentile
  // is 0 and the 97.5th is 100 (both tails hold a quarter of the mass).
  auto ci = bootstrap_mean_interval({0.0, 100.0}, 1000, 7);
  EXPECT_DOUBLE_EQ(ci.first, 0.0);
  EXPECT_DOUBLE_EQ(ci.second, 100.0);
  auto constant = bootstrap_mean_interval(std::vector<double>(10, 0.7), 100, 1);
  EXPECT_DOUBLE_EQ(constant.first, 0.7);
  EXPECT_DOUBLE_EQ(constant.second, 0.7);
}

TEST(PairedBootstrap, IntervalMatchesTheNormalApproximationOfTheDifference) {
  // 300 questions: 60 gained 100 points, 30 lost 100, 210 unchanged. Mean difference 10; the
  // differences' standard deviation is sqrt(90 * 100^2 / 300 - 10^2) = 53.85, so the standard error is
  // 53.85 / sqrt(300) = 3.109 and the 95% interval about 10 -+ 6.09.
  std::vector<double> a, b;
  for (int i = 0; i < 300; ++i) {
    a.push_back(i < 60 ? 100 : (i < 90 ? 0 : (i % 2) * 100.0));
    b.push_back(i < 60 ? 0 : (i < 90 ? 100 : (i % 2) * 100.0));
  }
  PairedDifference d = paired_bootstrap(a, b, 4000, 3);
  EXPECT_DOUBLE_EQ(d.mean, 10.0);
  EXPECT_EQ(d.n, 300u);
  EXPECT_NEAR(d.lo, 10.0 - 6.09, 0.8);
  EXPECT_NEAR(d.hi, 10.0 + 6.09, 0.8);
}

TEST(PairedBootstrap, IdenticalScoresGiveAZeroInterval) {
  std::vector<double> a = {100, 0, 100, 0};
  PairedDifference d = paired_bootstrap(a, a, 500, 1);
  EXPECT_EQ(d.mean, 0.0);
  EXPECT_EQ(d.lo, 0.0);
  EXPECT_EQ(d.hi, 0.0);
}

TEST(Bootstrap, TooFewResamplesOrUnequalListsAreBugs) {
  EXPECT_THROW(bootstrap_mean_interval({1, 2}, 0, 1), BugError);
  EXPECT_THROW(bootstrap_mean_interval({1, 2}, kMinBootstrapSamples - 1, 1), BugError);
  EXPECT_THROW(paired_bootstrap({1, 2}, {1}, 100, 1), BugError);
}

}  // namespace
}  // namespace steper
