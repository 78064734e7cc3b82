// IRCoT's prompt format ("ircot-v1" in a trace's loop options), and the passage cut every framework
// shares; rag/framework.h chooses the framework's format for the loop and the training examples:
//   Wikipedia Title: <title>\n<text>\n\n ... Q: <question>\nA: <sentences so far>
#pragma once

#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

// The passage as a prompt shows it: its text cut to the first `passage_words` whitespace-separated words
// (joined by single spaces when cut; unchanged when it has no more). passage_words >= 1.
Passage shown_passage(const Passage& passage, int passage_words);

// "Wikipedia Title: <title>\n<text>\n\n" for each passage exactly as shown: the block every framework's prompt
// starts with.
std::string passages_block(const std::vector<Passage>& shown);
// Passages block + "Q: <question>\nA:" from passages exactly as shown (no further cut). The reasoning
// continues after "A:"; sentences are joined with a single space and each begins with a space, so
// prompt + target concatenates cleanly.
std::string render_prompt(const std::string& question, const std::vector<Passage>& shown);
// render_prompt of the passages cut to passage_words.
std::string build_prompt(const std::string& question, const std::vector<Passage>& passages, int passage_words);
// " r1 r2 ... rn" (each sentence preceded by one space)
std::string join_sentences(const std::vector<std::string>& sentences);

}  // namespace steper
