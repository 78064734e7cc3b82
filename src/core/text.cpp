#include "core/text.h"

namespace steper {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string first_words(const std::string& text, int max_words) {
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

}  // namespace steper
