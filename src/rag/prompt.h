// The one prompt format shared by the inference loop and the training examples (IRCoT style):
//   Wikipedia Title: <title>\n<text>\n\n ... Q: <question>\nA: <sentences so far>
#pragma once

#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

struct PromptOptions {
  int passage_words = 350;  // passages cut to this many words
};

// Passages block + "Q: <question>\nA:" . The reasoning continues after "A:"; sentences are joined
// with a single space and each begins with a space, so prompt + target concatenates cleanly.
std::string build_prompt(const std::string& question, const std::vector<Passage>& passages,
                         const PromptOptions& opts = {});
// " r1 r2 ... rn" (each sentence preceded by one space)
std::string join_sentences(const std::vector<std::string>& sentences);

}  // namespace steper
