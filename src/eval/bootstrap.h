// Bootstrap percentile intervals: the one resampling routine behind every interval steper reports
// (evaluation metrics, paired differences between systems, and differences between systems trained
// several times), drawn with core/rng.h's SplitMix64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace steper {

// The fewest resamples that give a 95% interval worth printing; fewer is a user error (--bootstrap).
constexpr int kMinBootstrapSamples = 100;

// Scores of one system trained several times: runs[r][q] is run r's score on question q (every run
// answers the same questions, in the same order).
using RunScores = std::vector<std::vector<double>>;

// The two-level bootstrap of mean(a) - mean(b), a system's mean being over its runs and the questions:
// each resample draws a's runs and b's runs with replacement (each system its own, as they were trained
// apart), then the questions with replacement (the same questions for both: the comparison is paired over
// questions), and takes the difference of the resampled means. An empty b gives the interval of mean(a).
// A system with one run draws no runs, so with one run each it is exactly the paired bootstrap over
// questions. Returns the `samples` resampled statistics, sorted. Runs of unequal length are a bug.
std::vector<double> two_level_draws(const RunScores& a, const RunScores& b, int samples, uint64_t seed);

// The 2.5% and 97.5% percentiles of sorted draws (linear interpolation between order statistics, as
// numpy's default).
std::pair<double, double> percentile_interval(const std::vector<double>& sorted_draws);

// Percentile interval (2.5%, 97.5%) of the mean of `values` over `samples` resamples with replacement,
// in the values' own unit. {0, 0} for no values; samples < kMinBootstrapSamples is a bug (callers
// validate --bootstrap).
std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, int samples, uint64_t seed);

// mean(a) - mean(b) with its 95% interval, in the values' unit.
struct PairedDifference {
  double mean = 0, lo = 0, hi = 0;
  size_t n = 0;     // questions
  size_t runs_a = 1, runs_b = 1;
};
// Over the same questions, one run each.
PairedDifference paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int samples,
                                  uint64_t seed);
// Over the same questions and each system's runs (two_level_draws).
PairedDifference two_level_difference(const RunScores& a, const RunScores& b, int samples, uint64_t seed);

}  // namespace steper
