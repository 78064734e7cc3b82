#include "eval/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include "core/error.h"
#include "core/rng.h"

namespace steper {

namespace {

size_t questions_of(const RunScores& runs, size_t expected) {
  for (const auto& r : runs)
    if (r.size() != expected) throw BugError(__FILE__, __LINE__, "bootstrap over runs of unequal length");
  return expected;
}

// The mean over runs of each question's score: what a resample with every run once would average.
double mean_of(const RunScores& runs) {
  double sum = 0;
  size_t n = 0;
  for (const auto& r : runs)
    for (double v : r) sum += v, ++n;
  return n == 0 ? 0.0 : sum / static_cast<double>(n);
}

// Draws runs.size() runs with replacement (none when there is one) and returns each question's mean over
// the drawn runs.
void draw_runs(const RunScores& runs, SplitMix64& rng, std::vector<double>& per_question) {
  std::fill(per_question.begin(), per_question.end(), 0.0);
  if (runs.empty()) return;
  const size_t r = runs.size();
  for (size_t i = 0; i < r; ++i) {
    const std::vector<double>& run = runs[r == 1 ? 0 : rng.below(r)];
    for (size_t q = 0; q < run.size(); ++q) per_question[q] += run[q];
  }
  for (double& v : per_question) v /= static_cast<double>(r);
}

}  // namespace

std::vector<double> two_level_draws(const RunScores& a, const RunScores& b, int samples, uint64_t seed) {
  if (samples < kMinBootstrapSamples)
    throw BugError(__FILE__, __LINE__, "bootstrap with " + std::to_string(samples) + " resamples");
  const size_t nq = questions_of(a, a.empty() ? 0 : a[0].size());
  questions_of(b, nq);
  std::vector<double> draws(static_cast<size_t>(samples), 0.0);
  if (nq == 0) return draws;
  SplitMix64 rng(seed);
  std::vector<double> qa(nq), qb(nq);
  for (double& d : draws) {
    draw_runs(a, rng, qa);
    draw_runs(b, rng, qb);
    double sum = 0.0;
    for (size_t i = 0; i < nq; ++i) {
      const size_t q = rng.below(nq);
      sum += qa[q] - qb[q];
    }
    d = sum / static_cast<double>(nq);
  }
  std::sort(draws.begin(), draws.end());
  return draws;
}

std::pair<double, double> percentile_interval(const std::vector<double>& sorted) {
  if (sorted.empty()) return {0.0, 0.0};
  auto at = [&](double q) {
    double pos = q * static_cast<double>(sorted.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
  };
  return {at(0.025), at(0.975)};
}

std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, int samples, uint64_t seed) {
  if (values.empty()) {
    if (samples < kMinBootstrapSamples)
      throw BugError(__FILE__, __LINE__, "bootstrap with " + std::to_string(samples) + " resamples");
    return {0.0, 0.0};
  }
  return percentile_interval(two_level_draws({values}, {}, samples, seed));
}

PairedDifference two_level_difference(const RunScores& a, const RunScores& b, int samples, uint64_t seed) {
  PairedDifference d;
  d.n = a.empty() ? 0 : a[0].size();
  d.runs_a = a.size();
  d.runs_b = b.size();
  if (a.empty() || b.empty()) throw BugError(__FILE__, __LINE__, "a difference needs runs of both systems");
  if (b[0].size() != d.n) throw BugError(__FILE__, __LINE__, "paired bootstrap of score lists of unequal length");
  const std::vector<double> draws = two_level_draws(a, b, samples, seed);
  if (d.n == 0) return d;
  d.mean = mean_of(a) - mean_of(b);
  std::tie(d.lo, d.hi) = percentile_interval(draws);
  return d;
}

PairedDifference paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int samples,
                                  uint64_t seed) {
  return two_level_difference(RunScores{a}, RunScores{b}, samples, seed);
}

}  // namespace steper
