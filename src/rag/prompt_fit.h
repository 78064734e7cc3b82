// Prompts fitted to a model's context (docs/DESIGN.md section 2). A step's prompt fits when it leaves room
// for its sentence: its tokens plus the sentence's max_tokens are at most the context. One that does not is
// fitted by IRCoT's rule (its prompt reader drops lines from the top of the question's own part of the
// prompt until it fits): the earliest passages are left out, whole, one at a time, until the prompt fits;
// then the last passage left out comes back cut to as many of its first words as still fit (none: it stays
// out). A prompt that fits is left exactly as it is.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/evidence.h"  // fitted_passages
#include "core/types.h"

namespace steper {

struct PromptFit {
  int dropped = 0;     // the earliest passages left out
  int words = 0;       // the first words kept of the passage after them; 0: that passage whole
  bool fits = true;    // false: even without any passage the prompt leaves no room
  int64_t tokens = 0;  // what the fitted prompt takes
  bool fitted() const { return dropped > 0 || words > 0; }
};

// Fits a prompt rendered from `shown` (render: the whole prompt text from a list of passages; tokens: what a
// prompt takes) into `budget` tokens by the rule above.
PromptFit fit_prompt(const std::vector<Passage>& shown, int64_t budget,
                     const std::function<std::string(const std::vector<Passage>&)>& render,
                     const std::function<int64_t(const std::string&)>& tokens);

}  // namespace steper
