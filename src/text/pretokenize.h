// The split patterns of byte-level BPE tokenizers, each a hand-written matcher equivalent to the
// regular expression it replaces (GPT-2, Llama-3, Qwen2), plus the Split behaviours of
// Hugging Face pre-tokenizers.
#pragma once

#include <string>
#include <vector>

#include "text/unicode.h"

namespace steper {
namespace text {

enum class SplitPattern { None, Gpt2, Llama3, Qwen2 };

// The exact regex strings found in tokenizer.json files.
extern const char* const kGpt2Pattern;
extern const char* const kLlama3Pattern;
extern const char* const kQwen2Pattern;

// SplitPattern::None when the string is not one of the known patterns.
SplitPattern split_pattern_from_regex(const std::string& regex);
const char* split_pattern_kind(SplitPattern p);  // "gpt2", "llama3", "qwen2"

// Length in code points of the pattern's match starting at chars[i] (0: no match there).
size_t split_pattern_match(SplitPattern p, const CharSeq& chars, size_t i);

// Appends to `out` the pieces of `s` that the pattern finds (each match is one piece; the patterns
// above cover every character, so the pieces concatenate back to s).
void split_pattern_pieces(SplitPattern p, const std::string& s, CharSeq& scratch,
                          std::vector<std::string>& out);

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// One contiguous stretch of the input and whether it matched the pattern.
struct SplitSpan {
  size_t begin, end;
  bool matched;
};
// Applies a Split behaviour (after `invert`) to spans that tile the string; appends the pieces.
void split_spans_apply(const std::string& s, std::vector<SplitSpan> spans, SplitBehavior behavior,
                       bool invert, std::vector<std::string>& out);

}  // namespace text
}  // namespace steper
