#include "wiki_corpus.h"

#include <cctype>
#include <cmath>

#include "data/world_rng.h"

namespace steper {

namespace {

constexpr uint32_t kVocabulary = 2000000;  // distinct content words
constexpr double kFunctionShare = 0.4;     // share of function words in running text
constexpr double kTopicShare = 0.12;       // share of a passage's content words that are its topic words

// The world generator's splitmix64 (its state a plain counter, so every passage has its own), with
// a modulo draw and a Zipf draw.
class Rng : public WorldRng {
 public:
  using WorldRng::WorldRng;
  uint64_t below(uint64_t n) { return next() % n; }
  // Zipf with exponent 1 over ranks 0..n-1 (the continuous 1/x law, rounded down).
  uint32_t zipf(uint32_t n) {
    double x = std::exp(uniform() * std::log(static_cast<double>(n) + 1.0));
    uint32_t r = static_cast<uint32_t>(x) - 1;
    return r < n ? r : n - 1;
  }
};

// English function words by frequency (about Wikipedia's order); drawn Zipfian too.
const char* const kFunctionWords[] = {
    "the",  "of",   "and",   "in",    "a",     "to",    "was",   "is",    "for",   "as",   "on",    "by",
    "with", "he",   "at",    "from",  "his",   "an",    "it",    "that",  "which", "also", "are",   "be",
    "or",   "has",  "its",   "first", "after", "were",  "who",   "had",   "this",  "she",  "her",   "their",
    "been", "one",  "into",  "not",   "they",  "there", "new",   "but",   "two",   "under", "known", "since"};
constexpr uint32_t kFunctionCount = sizeof(kFunctionWords) / sizeof(kFunctionWords[0]);

// Content word of rank r, spelled from consonant-vowel syllables (frequent words are shorter). Only
// a, o, u end a word and no two vowels meet, so the English (Porter) stemmers leave every word as it is.
std::string word_of(uint32_t r) {
  static const char kCons[] = "bdfgklmnprtvz";
  static const char kVow[] = "aou";
  constexpr uint32_t kSyl = 13 * 3;
  uint32_t syllables = 2;
  uint32_t span = kSyl * kSyl;
  while (r >= span && syllables < 5) {
    r -= span;
    span *= kSyl;
    ++syllables;
  }
  std::string w;
  for (uint32_t s = 0; s < syllables; ++s) {
    uint32_t d = r % kSyl;
    r /= kSyl;
    w += kCons[d / 3];
    w += kVow[d % 3];
  }
  return w;
}

std::string capitalised(std::string w) {
  w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
  return w;
}

}  // namespace

WikiCorpus::WikiCorpus(uint64_t passages, uint64_t seed) : n_(passages), seed_(seed) {}

WikiCorpus::Parts WikiCorpus::wiki_parts(uint64_t i, std::string* title, std::string* text) const {
  Rng rng(seed_ * 0x100000001b3ull ^ (i * 0x9e3779b97f4a7c15ull + 17));
  Parts parts;
  // Title: 1-3 name words from the rarer half of the vocabulary.
  uint32_t title_words = 1 + static_cast<uint32_t>(rng.below(3));
  for (uint32_t t = 0; t < title_words; ++t)
    parts.title.push_back(20000 + static_cast<uint32_t>(rng.below(kVocabulary - 20000)));
  for (int t = 0; t < 3; ++t) parts.topics.push_back(500 + rng.zipf(kVocabulary - 500));
  uint32_t length = 60 + static_cast<uint32_t>(rng.below(61));
  if (title) {  // written together with the text
    title->clear();
    for (uint32_t t = 0; t < title_words; ++t) *title += (t ? " " : "") + capitalised(word_of(parts.title[t]));
  }
  // The same random draws whether or not the text is written, so a query's passage parts match it.
  bool was = rng.below(2) != 0;
  if (text) *text = *title + (was ? " was a " : " is a ");
  uint32_t since_stop = 0;
  for (uint32_t w = title_words + 2; w < length; ++w) {
    const char* function_word = nullptr;
    uint32_t r = 0;
    if (rng.uniform() < kFunctionShare) {
      function_word = kFunctionWords[rng.zipf(kFunctionCount)];
    } else {
      r = rng.uniform() < kTopicShare ? parts.topics[rng.below(3)] : rng.zipf(kVocabulary);
      parts.words.push_back(r);
    }
    ++since_stop;
    const char* after = " ";
    if (w + 1 == length) {
      after = ".";
    } else if (since_stop > 8 && rng.below(10) == 0) {
      after = ". ";
      since_stop = 0;
    } else if (rng.below(12) == 0) {
      after = ", ";
    }
    if (!text) continue;
    *text += function_word ? std::string(function_word) : word_of(r);
    *text += after;
  }
  return parts;
}

Passage WikiCorpus::wiki_passage(uint64_t i) const {
  Passage p;
  p.id = "w" + std::to_string(i);
  wiki_parts(i, &p.title, &p.text);
  return p;
}

WikiQuery WikiCorpus::wiki_query(uint64_t q) const {
  Rng rng(seed_ * 0xc2b2ae3d27d4eb4full ^ (q * 0x165667b19e3779f9ull + 5));
  WikiQuery out;
  out.passage = rng.below(n_);
  Parts parts = wiki_parts(out.passage, nullptr, nullptr);
  std::vector<std::string> words;
  static const char* const kOpen[] = {"what", "which", "who", "when", "where", "how many"};
  words.push_back(kOpen[rng.below(6)]);
  words.push_back(kFunctionWords[rng.below(8)]);
  for (uint32_t t : parts.title)
    if (rng.uniform() < 0.4) words.push_back(capitalised(word_of(t)));
  words.push_back(word_of(parts.topics[rng.below(3)]));
  for (int w = 0; w < 2 && !parts.words.empty(); ++w) {
    words.push_back(kFunctionWords[rng.zipf(kFunctionCount)]);
    words.push_back(word_of(parts.words[rng.below(parts.words.size())]));
  }
  for (int w = 0; w < 2; ++w) words.push_back(word_of(rng.zipf(kVocabulary)));  // words the passage need not have
  for (size_t w = 0; w < words.size(); ++w) out.text += (w ? " " : "") + words[w];
  out.text += "?";
  return out;
}

}  // namespace steper
