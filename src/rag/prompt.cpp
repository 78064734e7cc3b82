#include "rag/prompt.h"

#include "core/error.h"
#include "core/text.h"

namespace steper {

// The first `max_words` whitespace-separated words of `text`, joined by single spaces when cut.
static std::string cut_words(const std::string& text, int max_words) {
  size_t i = 0, words = 0;
  const size_t n = text.size();
  while (i < n) {
    while (i < n && is_space(text[i])) ++i;
    if (i == n) break;
    if (words == static_cast<size_t>(max_words)) {
      // more words follow: rebuild the first max_words words
      std::string out;
      size_t j = 0, w = 0;
      while (w < words) {
        while (is_space(text[j])) ++j;
        size_t k = j;
        while (k < n && !is_space(text[k])) ++k;
        if (!out.empty()) out += ' ';
        out.append(text, j, k - j);
        j = k;
        ++w;
      }
      return out;
    }
    while (i < n && !is_space(text[i])) ++i;
    ++words;
  }
  return text;
}

Passage shown_passage(const Passage& passage, int passage_words) {
  if (passage_words < 1) throw BugError(__FILE__, __LINE__, "shown_passage: passage_words must be at least 1");
  return Passage{passage.id, passage.title, cut_words(passage.text, passage_words)};
}

std::string passages_block(const std::vector<Passage>& shown) {
  std::string out;
  for (const auto& p : shown) {
    out += "Wikipedia Title: ";
    out += p.title;
    out += '\n';
    out += p.text;
    out += "\n\n";
  }
  return out;
}

std::string render_prompt(const std::string& question, const std::vector<Passage>& shown) {
  std::string out = passages_block(shown);
  out += "Q: ";
  out += question;
  out += "\nA:";
  return out;
}

std::string build_prompt(const std::string& question, const std::vector<Passage>& passages, int passage_words) {
  std::vector<Passage> shown;
  shown.reserve(passages.size());
  for (const auto& p : passages) shown.push_back(shown_passage(p, passage_words));
  return render_prompt(question, shown);
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
