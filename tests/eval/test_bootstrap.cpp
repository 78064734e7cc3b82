// The bootstrap against figures computed by hand: the normal approximation of a mean's sampling
// distribution, and the exact resampling distribution of two values.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

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

// The frequency of each distinct value among the draws.
std::map<double, double> frequencies(const std::vector<double>& draws) {
  std::map<double, double> f;
  for (double d : draws) f[std::round(d * 1e9) / 1e9] += 1.0 / static_cast<double>(draws.size());
  return f;
}

TEST(TwoLevelBootstrap, TwoRunsTwoQuestionsGiveTheExactDistribution) {
  // a's runs score [1, 0] and [1, 1] on two questions, b's one run [0, 0]. Drawing a's two runs with
  // replacement gives per-question means [1, 0] (1/4), [1, 0.5] (1/2) or [1, 1] (1/4); drawing the two
  // questions with replacement then gives the mean of one, the other or both. By hand:
  //   1: 1/4*1/4 + 1/2*1/4 + 1/4*1 = 7/16;  0.75: 1/2*1/2 = 4/16;  0.5: 1/4*1/2 + 1/2*1/4 = 4/16;  0: 1/16.
  const RunScores a = {{1, 0}, {1, 1}}, b = {{0, 0}};
  std::map<double, double> f = frequencies(two_level_draws(a, b, 200000, 5));
  ASSERT_EQ(f.size(), 4u);
  EXPECT_NEAR(f[1.0], 7.0 / 16, 0.005);
  EXPECT_NEAR(f[0.75], 4.0 / 16, 0.005);
  EXPECT_NEAR(f[0.5], 4.0 / 16, 0.005);
  EXPECT_NEAR(f[0.0], 1.0 / 16, 0.005);
  // the tails: 1/16 of the mass at 0 covers the lower 2.5%, 7/16 at 1 the upper
  PairedDifference d = two_level_difference(a, b, 20000, 5);
  EXPECT_DOUBLE_EQ(d.mean, 0.75);
  EXPECT_EQ(d.lo, 0.0);
  EXPECT_EQ(d.hi, 1.0);
  EXPECT_EQ(d.runs_a, 2u);
  EXPECT_EQ(d.runs_b, 1u);
  // over the questions alone (a's first run against b) the interval cannot reach what run 2 adds:
  // means of [1, 0] resampled are 0, 0.5 or 1, but never above 1 - and the run level adds 0.75 (1/4 of it)
  std::map<double, double> one = frequencies(two_level_draws({a[0]}, b, 200000, 5));
  EXPECT_EQ(one.count(0.75), 0u);
  EXPECT_NEAR(one[0.5], 0.5, 0.005);
}

TEST(TwoLevelBootstrap, RunSpreadWidensTheIntervalWhereQuestionsAloneSeeNone) {
  // three runs that differ by a constant on every question: resampling questions alone sees no spread,
  // resampling runs gives the mean of three draws from {-10, 0, +10}: S/3 with S = -3..3 at
  // (1, 3, 6, 7, 6, 3, 1) / 27, so the 2.5% and 97.5% percentiles are -10 and +10 (1/27 = 3.7% each).
  RunScores a;
  for (double offset : {-10.0, 0.0, 10.0}) a.push_back(std::vector<double>(50, 50.0 + offset));
  const RunScores b = {std::vector<double>(50, 50.0)};
  std::map<double, double> f = frequencies(two_level_draws(a, b, 100000, 9));
  ASSERT_EQ(f.size(), 7u);
  const double by_hand[7] = {1, 3, 6, 7, 6, 3, 1};
  int i = 0;
  for (const auto& [value, freq] : f) {
    EXPECT_NEAR(value, (i - 3) * 10.0 / 3.0, 1e-6);
    EXPECT_NEAR(freq, by_hand[i] / 27.0, 0.006) << value;
    ++i;
  }
  PairedDifference d = two_level_difference(a, b, 4000, 9);
  EXPECT_NEAR(d.mean, 0.0, 1e-12);
  EXPECT_NEAR(d.lo, -10.0, 1e-9);
  EXPECT_NEAR(d.hi, 10.0, 1e-9);
  PairedDifference questions_only = paired_bootstrap(a[0], b[0], 4000, 9);
  EXPECT_EQ(questions_only.lo, questions_only.hi);
}

TEST(TwoLevelBootstrap, OneRunEachIsThePairedBootstrap) {
  // with one run a system draws no runs, so the draws are the paired bootstrap's, resample for resample
  std::vector<double> a, b;
  for (int i = 0; i < 60; ++i) {
    a.push_back(i % 3 == 0 ? 100 : 0);
    b.push_back(i % 5 == 0 ? 100 : 0);
  }
  std::vector<double> diff(a.size());
  for (size_t i = 0; i < a.size(); ++i) diff[i] = a[i] - b[i];
  EXPECT_EQ(two_level_draws({a}, {b}, 500, 3), two_level_draws({diff}, {}, 500, 3));
  PairedDifference d = paired_bootstrap(a, b, 500, 3);
  EXPECT_EQ(d.lo, bootstrap_mean_interval(diff, 500, 3).first);
  EXPECT_EQ(d.hi, bootstrap_mean_interval(diff, 500, 3).second);
}

TEST(Bootstrap, TooFewResamplesOrUnequalListsAreBugs) {
  EXPECT_THROW(two_level_draws({{1, 2}, {1}}, {}, 100, 1), BugError);
  EXPECT_THROW(bootstrap_mean_interval({1, 2}, 0, 1), BugError);
  EXPECT_THROW(bootstrap_mean_interval({1, 2}, kMinBootstrapSamples - 1, 1), BugError);
  EXPECT_THROW(paired_bootstrap({1, 2}, {1}, 100, 1), BugError);
}

}  // namespace
}  // namespace steper
