#include "rag/prompt.h"

#include <cctype>

namespace steper {

// The first `max_words` whitespace-separated words of `text`, joined by single spaces when cut.
static std::string cut_words(const std::string& text, int max_words) {
  if (max_words <= 0) return text;
  size_t i = 0, words = 0;
  const size_t n = text.size();
  while (i < n) {
    while (i < n && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == n) break;
    if (words == static_cast<size_t>(max_words)) {
      // more words follow: rebuild the first max_words words
      std::string out;
      size_t j = 0, w = 0;
      while (w < words) {
        while (std::isspace(static_cast<unsigned char>(text[j]))) ++j;
        size_t k = j;
        while (k < n && !std::isspace(static_cast<unsigned char>(text[k]))) ++k;
        if (!out.empty()) out += ' ';
        out.append(text, j, k - j);
        j = k;
        ++w;
      }
      return out;
    }
    while (i < n && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    ++words;
  }
  return text;
}

std::string build_prompt(const std::string& question, const std::vector<Passage>& passages, const PromptOptions& opts) {
  std::string out;
  for (const auto& p : passages) {
    out += "Wikipedia Title: ";
    out += p.title;
    out += '\n';
    out += cut_words(p.text, opts.passage_words);
    out += "\n\n";
  }
  out += "Q: ";
  out += question;
  out += "\nA:";
  return out;
}

std::string join_sentences(const std::vector<std::string>& sentences) {
  std::string out;
  for (const auto& s : sentences) {
    out += ' ';
    out += s;
  }
  return out;
}

}  // namespace steper
