// Small text helpers every stage shares. Whitespace means the ASCII space characters (std::isspace in the
// C locale: space, \t, \n, \v, \f, \r) everywhere in steper.
#pragma once

#include <string>

namespace steper {

bool is_space(char c);
// `s` without leading and trailing whitespace.
std::string trim(const std::string& s);
// `s` up to its first newline (all of it when it has none).
std::string first_line(const std::string& s);
// The first `max_words` whitespace-separated words of `text`, joined by single spaces when it has more;
// `text` unchanged when it has no more. max_words >= 0.
std::string first_words(const std::string& text, int max_words);

}  // namespace steper
