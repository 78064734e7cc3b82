// UTF-8 decoding, the character classes the pre-tokenizer patterns use (\p{L}, \p{N}, \s), and
// Unicode normalisation forms, all backed by utf8proc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace steper {
namespace text {

// Decodes the code point starting at s[i]. An invalid or truncated sequence yields U+FFFD and
// *len covers its maximal ill-formed prefix (at least one byte); *valid is set accordingly.
uint32_t utf8_next(const char* s, size_t n, size_t i, size_t* len, bool* valid);
void utf8_append(std::string& out, uint32_t cp);
// Replaces ill-formed sequences with U+FFFD (like Rust's String::from_utf8_lossy).
std::string utf8_lossy(const std::string& bytes);

// The classes the known split patterns distinguish. Letter = \p{L}, Number = \p{N},
// Space = Unicode White_Space (\s), Other = everything else.
enum CharClass : uint8_t { kLetter = 0, kNumber = 1, kSpace = 2, kOther = 3 };
CharClass char_class(uint32_t cp);

// A decoded string: code points, their classes, and byte offsets (offset.size() == cp.size() + 1).
struct CharSeq {
  std::vector<uint32_t> cp;
  std::vector<uint8_t> cls;
  std::vector<size_t> offset;
  void assign(const std::string& s);
  size_t size() const { return cp.size(); }
};

enum class NormalForm { NFC, NFD, NFKC, NFKD, Lowercase };
// Valid UTF-8 runs are normalised; ill-formed bytes pass through unchanged.
std::string unicode_normalize(const std::string& s, NormalForm form);

}  // namespace text
}  // namespace steper
