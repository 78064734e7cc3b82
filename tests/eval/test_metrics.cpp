// Answer scoring against the official HotpotQA script (fixture written by make_official_fixture.py).
#include <gtest/gtest.h>

#include <utf8proc.h>

#include "core/io.h"
#include "eval/metrics.h"

namespace steper {
namespace {

const nlohmann::json& official() {
  static const nlohmann::json doc = read_json(std::string(STEPER_FIXTURES) + "/eval/hotpot_official.json");
  return doc;
}

std::string utf8(int32_t cp) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(cp, buf);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

TEST(Metrics, OfficialPairsAgree) {
  const auto& pairs = official()["pairs"];
  ASSERT_GE(pairs.size(), 200u);
  for (const auto& p : pairs) {
    const std::string pred = p["prediction"], gold = p["gold"];
    SCOPED_TRACE("prediction=" + nlohmann::json(pred).dump() + " gold=" + nlohmann::json(gold).dump());
    EXPECT_EQ(normalize_answer(pred), p["normalized_prediction"].get<std::string>());
    EXPECT_EQ(normalize_answer(gold), p["normalized_gold"].get<std::string>());
    EXPECT_EQ(exact_match(pred, gold), p["em"].get<double>());
    EXPECT_NEAR(f1_score(pred, gold), p["f1"].get<double>(), 1e-12);
    EXPECT_EQ(accuracy(pred, gold), p["acc"].get<double>());
  }
}

TEST(Metrics, ExtractionAgreesWithPythonRegex) {
  for (const auto& c : official()["extract"]) {
    const std::string s = c["sentence"];
    SCOPED_TRACE(nlohmann::json(s).dump());
    EXPECT_EQ(is_answer_sentence(s), c["matches"].get<bool>());
    EXPECT_EQ(extract_answer(s), c["answer"].get<std::string>());
  }
}

// Every code point Python lowercases, lowercased alone, agrees (skipping code points Python's Unicode
// version leaves unassigned, where a newer utf8proc may know more).
TEST(Metrics, LowercaseAgreesWithPythonOnEveryCodePoint) {
  std::vector<std::pair<int, int>> unassigned;
  for (const auto& r : official()["unassigned_ranges"]) unassigned.emplace_back(r[0].get<int>(), r[1].get<int>());
  auto is_unassigned = [&](int cp) {
    for (const auto& r : unassigned)
      if (cp >= r.first && cp <= r.second) return true;
    return false;
  };
  std::map<int, std::string> expected;
  for (const auto& m : official()["lower_map"]) expected[m[0].get<int>()] = m[1].get<std::string>();
  int checked = 0;
  for (int cp = 0x80; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    if (is_unassigned(cp)) continue;
    // probe through normalize_answer: "x" + c keeps c a letter inside a word (no article, no space)
    const std::string ch = utf8(cp);
    auto it = expected.find(cp);
    const std::string want = it == expected.end() ? ch : it->second;
    // Final sigma: U+03A3 after a cased letter at the end lowers to U+03C2 in Python; test it alone.
    std::string got = normalize_answer("\x01" + ch);  // U+0001: not cased, not space, not punctuation
    std::string want_norm = normalize_answer(std::string("\x01") + want);
    if (it != expected.end() || utf8proc_tolower(cp) != cp) {
      EXPECT_EQ(got, want_norm) << "code point U+" << std::hex << cp;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1300);
}

TEST(Metrics, WordCharactersAgreeWithPythonRe) {
  // An article next to a word character is not a whole word: "the" + c normalises to "the"+c exactly when
  // c is a word character in Python's re; otherwise the article goes.
  std::vector<std::pair<int, int>> unassigned, words;
  for (const auto& r : official()["unassigned_ranges"]) unassigned.emplace_back(r[0].get<int>(), r[1].get<int>());
  for (const auto& r : official()["word_ranges"]) words.emplace_back(r[0].get<int>(), r[1].get<int>());
  auto in = [](const std::vector<std::pair<int, int>>& rs, int cp) {
    for (const auto& r : rs)
      if (cp >= r.first && cp <= r.second) return true;
    return false;
  };
  int mismatches = 0;
  for (int cp = 0x80; cp < 0x110000; ++cp) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || in(unassigned, cp)) continue;
    bool python_word = in(words, cp);
    std::string norm = normalize_answer("the" + utf8(cp) + "\x01");
    bool ours_word = norm.rfind("the", 0) == 0;
    if (python_word != ours_word) {
      if (++mismatches < 20) ADD_FAILURE() << "code point U+" << std::hex << cp << " word=" << python_word;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Metrics, HandComputed) {
  EXPECT_EQ(normalize_answer("The  Quick, brown FOX!"), "quick brown fox");
  EXPECT_DOUBLE_EQ(f1_score("the cat sat", "cat sat down"), 2 * (2.0 / 2) * (2.0 / 3) / (2.0 / 2 + 2.0 / 3));
  EXPECT_EQ(f1_score("yes", "yes sir"), 0.0);
  EXPECT_EQ(best_exact_match("NYC", {"New York City", "nyc"}), 1.0);
  EXPECT_EQ(best_exact_match("LA", {"New York City", "nyc"}), 0.0);
  EXPECT_DOUBLE_EQ(best_f1("New York", {"New York City", "York"}), 0.8);  // max(0.8, 2/3)
  EXPECT_EQ(best_accuracy("it was New York City.", {"LA", "new york"}), 1.0);
  EXPECT_EQ(extract_answer("So the answer is: Hee Haw."), "Hee Haw");
  EXPECT_FALSE(is_answer_sentence("Roy Clark hosted Hee Haw."));
}

}  // namespace
}  // namespace steper
