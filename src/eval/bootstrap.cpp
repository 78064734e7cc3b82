#include "eval/bootstrap.h"

#include <algorithm>
#include <tuple>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/rng.h"

namespace steper {

std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, int samples, uint64_t seed) {
  if (samples < kMinBootstrapSamples)
    throw BugError(__FILE__, __LINE__, "bootstrap with " + std::to_string(samples) + " resamples");
  if (values.empty()) return {0.0, 0.0};
  SplitMix64 rng(seed);
  std::vector<double> means(static_cast<size_t>(samples));
  for (auto& m : means) {
    double sum = 0.0;
    for (size_t i = 0; i < values.size(); ++i) sum += values[rng.below(values.size())];
    m = sum / static_cast<double>(values.size());
  }
  std::sort(means.begin(), means.end());
  auto at = [&](double q) {
    double pos = q * static_cast<double>(means.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, means.size() - 1);
    return means[lo] + (pos - static_cast<double>(lo)) * (means[hi] - means[lo]);
  };
  return {at(0.025), at(0.975)};
}

PairedDifference paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int samples,
                                  uint64_t seed) {
  if (a.size() != b.size()) throw BugError(__FILE__, __LINE__, "paired bootstrap of score lists of unequal length");
  PairedDifference d;
  d.n = a.size();
  if (a.empty()) return d;
  std::vector<double> diff(a.size());
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += diff[i] = a[i] - b[i];
  d.mean = sum / static_cast<double>(diff.size());
  std::tie(d.lo, d.hi) = bootstrap_mean_interval(diff, samples, seed);
  return d;
}

}  // namespace steper
