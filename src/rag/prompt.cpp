#include "rag/prompt.h"

#include "core/error.h"
#include "core/text.h"

namespace steper {

Passage shown_passage(const Passage& passage, int passage_words) {
  if (passage_words < 1) throw BugError(__FILE__, __LINE__, "shown_passage: passage_words must be at least 1");
  return Passage{passage.id, passage.title, first_words(passage.text, passage_words)};
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
