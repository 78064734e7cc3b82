// IRCoT's query conventions (StonyBrookNLP/ircot, commaqa/inference/ircot.py):
//  - remove_wh_words(): the query is split on spaces and the words who, what, when, where, why,
//    which, how, does, is (compared stripped and lowercased) are dropped before BM25 search;
//  - is_reasoning_sentence(): a generated sentence starting with "thus ", "thus,", "so ", "so,",
//    "that is,", "therefore" or "hence" (lowercased), or containing an arithmetic step like
//    "3 + 4 = 7", is not used as the next query.
// Differences: question marks are removed here (Elasticsearch's analyzer dropped them there), so a
// wh-word followed by "?" is dropped too; any run of whitespace separates words.
#include <cctype>
#include <regex>
#include <string>

#include "retrieval/retriever.h"

namespace steper {

namespace {

std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_wh_word(const std::string& word) {
  static const char* const kWhWords[] = {"who", "what", "when", "where", "why", "which", "how", "does", "is"};
  std::string w = ascii_lower(word);
  for (const char* wh : kWhWords)
    if (w == wh) return true;
  return false;
}

}  // namespace

std::string ircot_clean_query(const std::string& text) {
  std::string out, word;
  auto flush = [&]() {
    if (!word.empty() && !is_wh_word(word)) {
      if (!out.empty()) out += ' ';
      out += word;
    }
    word.clear();
  };
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) flush();
    else if (c != '?') word += c;
  }
  flush();
  return out;
}

bool ircot_is_conclusion(const std::string& sentence) {
  size_t b = 0;
  while (b < sentence.size() && std::isspace(static_cast<unsigned char>(sentence[b]))) ++b;
  std::string s = ascii_lower(sentence.substr(b));
  static const char* const kStarters[] = {"thus ", "thus,", "so ", "so,", "that is,", "therefore", "hence"};
  for (const char* starter : kStarters)
    if (s.rfind(starter, 0) == 0) return true;
  static const std::regex kArithmetic(R"((\d[\d,]*\.?\d+|\d+) ([+-]) (\d[\d,]*\.?\d+|\d+) = (\d[\d,]*\.?\d+|\d+))");
  return std::regex_search(s, kArithmetic);
}

}  // namespace steper
