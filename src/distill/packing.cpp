#include "distill/packing.h"

#include <algorithm>

#include "core/error.h"

namespace steper {

namespace {

// How many leading tokens two id sequences share.
int32_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  auto n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return static_cast<int32_t>(i);
}

// Whether the next example's ids start with all of `prev`'s prompt except the question block. The
// question block ("Q: q\nA:") ends both prompts: their common suffix covers it, so what comes before it in
// `prev` is its passages. A tokenisation that merges across the passage boundary shares less.
bool passages_are_prefix(const TokenizedExample& prev, const TokenizedExample& next, int32_t shared) {
  const int32_t pa = prev.target_start, pb = next.target_start;
  int32_t suffix = 0;
  while (suffix < pa && suffix < pb && prev.ids[static_cast<size_t>(pa - 1 - suffix)] ==
                                           next.ids[static_cast<size_t>(pb - 1 - suffix)])
    ++suffix;
  return shared >= pa - suffix;
}

// One row computing examples[first..last] (consecutive examples of a trace; shared[k] = the tokens example
// k shares with example k-1).
Pack make_pack(const std::vector<TokenizedExample>& examples, uint32_t first, uint32_t last,
               const std::vector<int32_t>& shared) {
  Pack p;
  std::vector<int32_t> loc, prev_loc;  // the row index of each token of the current / previous example
  for (uint32_t k = first; k <= last; ++k) {
    const TokenizedExample& ex = examples[k];
    const int32_t keep = k == first ? 0 : shared[k];
    loc.assign(prev_loc.begin(), prev_loc.begin() + keep);
    for (int32_t i = keep; i < ex.length(); ++i) {
      loc.push_back(p.length());
      p.ids.push_back(ex.ids[static_cast<size_t>(i)]);
      p.position.push_back(i);
      p.parent.push_back(i == 0 ? -1 : loc[static_cast<size_t>(i - 1)]);
    }
    for (int32_t t = ex.target_start; t < ex.length(); ++t) {
      p.predict_at.push_back(loc[static_cast<size_t>(t - 1)]);  // the hidden state at t-1 predicts token t
      p.label.push_back(ex.ids[static_cast<size_t>(t)]);
    }
    p.examples.push_back(k);
    prev_loc.swap(loc);
  }
  return p;
}

}  // namespace

std::vector<Pack> build_packs(const std::vector<TokenizedExample>& examples, const PackOptions& opts,
                              PackStats* stats) {
  if (opts.enabled && opts.limit < 1) throw BugError(__FILE__, __LINE__, "packing without a row limit");
  PackStats st;
  std::vector<Pack> out;
  std::vector<int32_t> shared(examples.size(), 0);
  for (uint32_t a = 0; a < examples.size();) {
    uint32_t b = a + 1;  // [a, b): one trace
    while (b < examples.size() && examples[b].trace == examples[a].trace) {
      if (examples[b].step <= examples[b - 1].step)
        throw BugError(__FILE__, __LINE__, "a trace's examples are not in step order");
      ++b;
    }
    ++st.traces;
    for (uint32_t k = a; k < b; ++k) st.example_tokens += examples[k].length();
    if (!opts.enabled) {
      for (uint32_t k = a; k < b; ++k) out.push_back(make_pack(examples, k, k, shared));
      a = b;
      continue;
    }
    for (uint32_t k = a + 1; k < b; ++k) {
      shared[k] = common_prefix(examples[k - 1].ids, examples[k].ids);
      if (!passages_are_prefix(examples[k - 1], examples[k], shared[k])) ++st.unshared_steps;
    }
    // consecutive groups, each as long as the limit allows
    size_t groups = 0;
    for (uint32_t first = a; first < b; ++groups) {
      int64_t len = examples[first].length();
      uint32_t last = first;
      while (last + 1 < b && len + examples[last + 1].length() - shared[last + 1] <= opts.limit) {
        ++last;
        len += examples[last].length() - shared[last];
      }
      out.push_back(make_pack(examples, first, last, shared));
      first = last + 1;
    }
    if (groups > 1) ++st.split_traces;
    a = b;
  }
  st.rows = out.size();
  for (const Pack& p : out) st.computed_tokens += p.length();
  if (stats) *stats = st;
  return out;
}

std::vector<BatchUnit> pack_units(const std::vector<Pack>& packs, const std::vector<TokenizedExample>& examples) {
  std::vector<BatchUnit> out;
  out.reserve(packs.size());
  for (const Pack& p : packs)
    out.push_back({p.length(), p.target_length(), p.single() ? static_cast<int>(examples[p.examples[0]].task) : -1});
  return out;
}

std::vector<uint8_t> pack_visibility(const Pack& p) {
  const auto T = static_cast<size_t>(p.length());
  std::vector<uint8_t> allowed(T * T, 0);
  for (size_t t = 0; t < T; ++t) {
    const int32_t up = p.parent[t];
    if (up >= 0) {
      if (static_cast<size_t>(up) >= t) throw BugError(__FILE__, __LINE__, "a pack token sees a later one");
      std::copy_n(allowed.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(up) * T), up + 1,
                  allowed.begin() + static_cast<std::ptrdiff_t>(t * T));
    }
    allowed[t * T + t] = 1;
  }
  return allowed;
}

}  // namespace steper
