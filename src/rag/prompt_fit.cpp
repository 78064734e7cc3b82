#include "rag/prompt_fit.h"

#include <algorithm>

#include "core/text.h"

namespace steper {

namespace {

int word_count(const std::string& text) {
  int n = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = is_space(c);
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

}  // namespace

PromptFit fit_prompt(const std::vector<Passage>& shown, int64_t budget,
                     const std::function<std::string(const std::vector<Passage>&)>& render,
                     const std::function<int64_t(const std::string&)>& tokens) {
  PromptFit fit;
  auto measure = [&](int dropped, int words) { return tokens(render(fitted_passages(shown, dropped, words))); };
  fit.tokens = measure(0, 0);
  if (fit.tokens <= budget) return fit;
  const int n = static_cast<int>(shown.size());
  // the earliest passages out, whole, until the prompt fits
  while (fit.dropped < n) {
    ++fit.dropped;
    fit.tokens = measure(fit.dropped, 0);
    if (fit.tokens <= budget) break;
  }
  if (fit.tokens > budget) {
    fit.fits = false;
    return fit;
  }
  // the last passage left out back, cut to the most words that fit (binary search over its first words)
  const int back = fit.dropped - 1;
  int lo = 0, hi = word_count(shown[static_cast<size_t>(back)].text) - 1;  // all its words did not fit
  int64_t lo_tokens = fit.tokens;
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    const int64_t t = measure(back, mid);
    if (t <= budget) {
      lo = mid;
      lo_tokens = t;
    } else {
      hi = mid - 1;
    }
  }
  if (lo > 0) {
    fit.dropped = back;
    fit.words = lo;
    fit.tokens = lo_tokens;
  }
  return fit;
}

}  // namespace steper
