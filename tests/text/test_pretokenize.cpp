// The hand-written split patterns against std::regex running the same patterns with \p{L}, \p{N}
// spelled as ASCII classes (exact on ASCII text), and hand-derived splits on Unicode text.
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "text/pretokenize.h"

namespace steper {
namespace {

std::vector<std::string> pieces_of(text::SplitPattern p, const std::string& s) {
  text::CharSeq scratch;
  std::vector<std::string> out;
  text::split_pattern_pieces(p, s, scratch, out);
  return out;
}

std::vector<std::string> regex_pieces(const std::regex& re, const std::string& s) {
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
    out.push_back(it->str());
  }
  return out;
}

// The patterns of the real tokenizer.json files with \p{L} -> [A-Za-z], \p{N} -> [0-9] and the
// case-insensitive group written out (as transformers.js does).
const char* kGpt2Ascii =
    "'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\\sA-Za-z0-9]+|\\s+(?!\\S)|\\s+";
const char* kLlama3Ascii =
    "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\nA-Za-z0-9]?[A-Za-z]+|[0-9]{1,3}|"
    " ?[^\\sA-Za-z0-9]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* kQwen2Ascii =
    "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\nA-Za-z0-9]?[A-Za-z]+|[0-9]|"
    " ?[^\\sA-Za-z0-9]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

void fuzz_against_regex(text::SplitPattern p, const char* ascii_regex) {
  std::regex re(ascii_regex, std::regex::ECMAScript);
  const std::string alphabet = "aZk90 '  sStTrReEvVmMlLdD\n\r\t\v.,!-_\"\x01";
  std::mt19937 rng(1234);
  for (int n = 0; n < 3000; ++n) {
    std::string s;
    size_t len = rng() % 24;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    ASSERT_EQ(pieces_of(p, s), regex_pieces(re, s)) << "text: \"" << s << "\"";
  }
}

TEST(TextPretokenize, Gpt2MatchesRegexOnAscii) {
  fuzz_against_regex(text::SplitPattern::Gpt2, kGpt2Ascii);
}
TEST(TextPretokenize, Llama3MatchesRegexOnAscii) {
  fuzz_against_regex(text::SplitPattern::Llama3, kLlama3Ascii);
}
TEST(TextPretokenize, Qwen2MatchesRegexOnAscii) {
  fuzz_against_regex(text::SplitPattern::Qwen2, kQwen2Ascii);
}

TEST(TextPretokenize, KnownPatternStringsAreRecognised) {
  EXPECT_EQ(text::split_pattern_from_regex(
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            text::SplitPattern::Llama3);
  EXPECT_EQ(text::split_pattern_from_regex("\\s+"), text::SplitPattern::None);
}

using V = std::vector<std::string>;

TEST(TextPretokenize, UnicodeSplitsByHand) {
  using text::SplitPattern;
  EXPECT_EQ(pieces_of(SplitPattern::Gpt2, "Hello world's  end"),
            (V{"Hello", " world", "'s", " ", " end"}));
  EXPECT_EQ(pieces_of(SplitPattern::Gpt2, "I'M naïve 123"), (V{"I", "'", "M", " naïve", " 123"}));
  EXPECT_EQ(pieces_of(SplitPattern::Llama3, "I'M naïve"), (V{"I", "'M", " naïve"}));
  EXPECT_EQ(pieces_of(SplitPattern::Llama3, "12345 ①②③④"), (V{"123", "45", " ", "①②③", "④"}));
  EXPECT_EQ(pieces_of(SplitPattern::Qwen2, "123"), (V{"1", "2", "3"}));
  EXPECT_EQ(pieces_of(SplitPattern::Llama3, "中文，测试"), (V{"中文", "，测试"}));
  EXPECT_EQ(pieces_of(SplitPattern::Llama3, "😀 ok"), (V{"😀", " ok"}));
  EXPECT_EQ(pieces_of(SplitPattern::Llama3, "a\u00a0b"), (V{"a", "\u00a0b"}));  // NBSP is \s
  EXPECT_EQ(pieces_of(SplitPattern::Llama3, "  \n\n  x"), (V{"  \n\n", " ", " x"}));
  EXPECT_EQ(pieces_of(SplitPattern::Llama3, "x!!\n\ny"), (V{"x", "!!\n\n", "y"}));
  EXPECT_EQ(pieces_of(SplitPattern::Gpt2, "\u3000\u3000z"), (V{"\u3000", "\u3000", "z"}));
}

TEST(TextPretokenize, SplitBehaviours) {
  // "a-b--c" split on "-": spans a | - | b | - | - | c
  std::string s = "a-b--c";
  std::vector<text::SplitSpan> spans = {{0, 1, false}, {1, 2, true}, {2, 3, false},
                                        {3, 4, true},  {4, 5, true}, {5, 6, false}};
  auto run = [&](text::SplitBehavior b, bool invert) {
    V out;
    text::split_spans_apply(s, spans, b, invert, out);
    return out;
  };
  EXPECT_EQ(run(text::SplitBehavior::Removed, false), (V{"a", "b", "c"}));
  EXPECT_EQ(run(text::SplitBehavior::Isolated, false), (V{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(run(text::SplitBehavior::MergedWithPrevious, false),
            (V{"a-", "b-", "-", "c"}));  // HF docs: the- final- - countdown
  EXPECT_EQ(run(text::SplitBehavior::MergedWithNext, false), (V{"a", "-b", "-", "-c"}));
  EXPECT_EQ(run(text::SplitBehavior::Contiguous, false), (V{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(run(text::SplitBehavior::Removed, true), (V{"-", "-", "-"}));
}

}  // namespace
}  // namespace steper
