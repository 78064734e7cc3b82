#include "text/pretokenize.h"

#include <algorithm>

namespace steper {
namespace text {

// ---- the known patterns -----------------------------------------------------------------------

const char* const kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char* const kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

SplitPattern split_pattern_from_regex(const std::string& regex) {
  if (regex == kGpt2Pattern) return SplitPattern::Gpt2;
  if (regex == kLlama3Pattern) return SplitPattern::Llama3;
  if (regex == kQwen2Pattern) return SplitPattern::Qwen2;
  return SplitPattern::None;
}

const char* split_pattern_kind(SplitPattern p) {
  switch (p) {
    case SplitPattern::Gpt2:
      return "gpt2";
    case SplitPattern::Llama3:
      return "llama3";
    case SplitPattern::Qwen2:
      return "qwen2";
    default:
      return "";
  }
}

// ---- matchers ---------------------------------------------------------------------------------

// Number of consecutive characters of class c starting at i.
static size_t run_of(const CharSeq& s, size_t i, uint8_t c) {
  size_t j = i;
  while (j < s.size() && s.cls[j] == c) ++j;
  return j - i;
}

static uint32_t ascii_lower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// 's 't 're 've 'm 'll 'd at i; returns the match length in characters or 0.
static size_t contraction_at(const CharSeq& s, size_t i, bool ignore_case) {
  if (s.cp[i] != '\'' || i + 1 >= s.size()) return 0;
  auto at = [&](size_t k) -> uint32_t {
    if (k >= s.size()) return 0;
    return ignore_case ? ascii_lower(s.cp[k]) : s.cp[k];
  };
  uint32_t a = at(i + 1), b = at(i + 2);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s+(?!\S)|\s+ at a whitespace character i.
static size_t trailing_space_match(const CharSeq& s, size_t i) {
  size_t run = run_of(s, i, kSpace);
  if (i + run == s.size()) return run;  // runs to the end
  if (run >= 2) return run - 1;         // leave the last space for the next word
  return 1;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
static size_t match_gpt2(const CharSeq& s, size_t i) {
  size_t c = contraction_at(s, i, false);
  if (c) return c;
  uint8_t k = s.cls[i];
  if (s.cp[i] == ' ' && i + 1 < s.size() && s.cls[i + 1] != kSpace) {
    return 1 + run_of(s, i + 1, s.cls[i + 1]);
  }
  if (k != kSpace) return run_of(s, i, k);
  return trailing_space_match(s, i);
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+          (Qwen2: \p{N} instead of \p{N}{1,3})
static size_t match_llama3(const CharSeq& s, size_t i, size_t max_digits) {
  size_t c = contraction_at(s, i, true);
  if (c) return c;
  uint8_t k = s.cls[i];
  uint32_t ch = s.cp[i];
  size_t n = s.size();
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (k == kLetter) return run_of(s, i, kLetter);
  if (k != kNumber && ch != '\r' && ch != '\n' && i + 1 < n && s.cls[i + 1] == kLetter) {
    return 1 + run_of(s, i + 1, kLetter);
  }
  // \p{N}{1,3}
  if (k == kNumber) {
    size_t r = run_of(s, i, kNumber);
    return r < max_digits ? r : max_digits;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  size_t start = i;
  if (ch == ' ' && i + 1 < n && s.cls[i + 1] == kOther) start = i + 1;
  if (s.cls[start] == kOther) {
    size_t j = start + run_of(s, start, kOther);
    while (j < n && (s.cp[j] == '\r' || s.cp[j] == '\n')) ++j;
    return j - i;
  }
  // \s*[\r\n]+ : up to and including the last line break of the whitespace run
  size_t run = run_of(s, i, kSpace);
  for (size_t j = i + run; j > i; --j) {
    uint32_t cj = s.cp[j - 1];
    if (cj == '\r' || cj == '\n') return j - i;
  }
  return trailing_space_match(s, i);
}

size_t split_pattern_match(SplitPattern p, const CharSeq& chars, size_t i) {
  switch (p) {
    case SplitPattern::Gpt2:
      return match_gpt2(chars, i);
    case SplitPattern::Llama3:
      return match_llama3(chars, i, 3);
    case SplitPattern::Qwen2:
      return match_llama3(chars, i, 1);
    default:
      return 0;
  }
}

void split_pattern_pieces(SplitPattern p, const std::string& s, CharSeq& scratch,
                          std::vector<std::string>& out) {
  scratch.assign(s);
  size_t i = 0, n = scratch.size();
  while (i < n) {
    size_t len = split_pattern_match(p, scratch, i);
    if (len == 0) len = 1;  // unreachable for the known patterns: they cover every character
    out.emplace_back(s, scratch.offset[i], scratch.offset[i + len] - scratch.offset[i]);
    i += len;
  }
}

// ---- Split behaviours -------------------------------------------------------------------------

void split_spans_apply(const std::string& s, std::vector<SplitSpan> spans, SplitBehavior behavior,
                       bool invert, std::vector<std::string>& out) {
  if (invert) {
    for (auto& sp : spans) sp.matched = !sp.matched;
  }
  // Merge spans into pieces according to the behaviour.
  std::vector<std::pair<size_t, size_t>> pieces;
  switch (behavior) {
    case SplitBehavior::Removed:
      for (const auto& sp : spans) {
        if (!sp.matched) pieces.emplace_back(sp.begin, sp.end);
      }
      break;
    case SplitBehavior::Isolated:
      for (const auto& sp : spans) pieces.emplace_back(sp.begin, sp.end);
      break;
    case SplitBehavior::MergedWithPrevious: {
      // A match joins the piece before it, unless that piece was a match itself.
      bool previous_matched = false;
      for (const auto& sp : spans) {
        if (sp.matched && !previous_matched && !pieces.empty()) {
          pieces.back().second = sp.end;
        } else {
          pieces.emplace_back(sp.begin, sp.end);
        }
        previous_matched = sp.matched;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      // A match joins the piece after it, unless that piece is a match itself.
      bool next_matched = false;
      for (size_t k = spans.size(); k-- > 0;) {
        const SplitSpan& sp = spans[k];
        if (sp.matched && !next_matched && !pieces.empty()) {
          pieces.back().first = sp.begin;
        } else {
          pieces.emplace_back(sp.begin, sp.end);
        }
        next_matched = sp.matched;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool last_matched = false;
      for (const auto& sp : spans) {
        if (sp.matched && last_matched && !pieces.empty()) {
          pieces.back().second = sp.end;
        } else {
          pieces.emplace_back(sp.begin, sp.end);
        }
        last_matched = sp.matched;
      }
      break;
    }
  }
  for (const auto& p : pieces) {
    if (p.second > p.first) out.emplace_back(s, p.first, p.second - p.first);
  }
}

}  // namespace text
}  // namespace steper
