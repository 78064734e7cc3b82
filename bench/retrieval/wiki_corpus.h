// A generated stand-in for Wikipedia's first paragraphs (IRCoT's HotpotQA corpus has 5,233,329 of
// them): 60-120 words, about 40% function words, content words Zipfian over 2 million distinct words,
// three topic words repeated through each passage, a title of 1-3 name words that the text opens with.
// Passage i and query q are functions of (seed, i) and (seed, q) alone, so any process can generate
// any part of the corpus without holding it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

struct WikiQuery {
  std::string text;
  uint64_t passage = 0;  // the passage the query was written from (the one to find)
};

class WikiCorpus {
 public:
  WikiCorpus(uint64_t passages, uint64_t seed = 1);
  uint64_t size() const { return n_; }
  Passage wiki_passage(uint64_t i) const;  // id "w<i>"
  // A question-like query about one passage: some of its title and topic words, other words of
  // its text, function words and a word from elsewhere.
  WikiQuery wiki_query(uint64_t q) const;

 private:
  struct Parts {
    std::vector<uint32_t> title, topics, words;  // content word ranks; words = the text's content words
  };
  Parts wiki_parts(uint64_t i, std::string* title, std::string* text) const;
  uint64_t n_, seed_;
};

}  // namespace steper
