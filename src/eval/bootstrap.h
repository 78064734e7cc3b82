// Bootstrap percentile intervals: the one resampling routine behind every interval steper reports
// (evaluation metrics and paired differences between systems), drawn with core/rng.h's SplitMix64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace steper {

// The fewest resamples that give a 95% interval worth printing; fewer is a user error (--bootstrap).
constexpr int kMinBootstrapSamples = 100;

// Percentile interval (2.5%, 97.5%, linear interpolation between order statistics as numpy's default)
// of the mean of `values` over `samples` resamples with replacement, in the values' own unit.
// {0, 0} for no values; samples < kMinBootstrapSamples is a bug (callers validate --bootstrap).
std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, int samples, uint64_t seed);

// Paired bootstrap of mean(a - b) over the same questions: {mean, lo, hi} in the values' unit.
struct PairedDifference {
  double mean = 0, lo = 0, hi = 0;
  size_t n = 0;
};
PairedDifference paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int samples,
                                  uint64_t seed);

}  // namespace steper
