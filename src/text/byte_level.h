// GPT-2's reversible byte <-> printable character mapping used by byte-level BPE vocabularies.
#pragma once

#include <cstdint>
#include <string>

namespace steper {
namespace text {

// The UTF-8 string of the character that stands for byte b (e.g. ' ' -> "Ġ").
const std::string& byte_level_char(uint8_t b);
// Maps every byte of raw to its character.
std::string byte_level_encode(const std::string& raw);
// Inverse of byte_level_encode; false (out unspecified) when a character is not in the alphabet.
bool byte_level_decode(const std::string& token, std::string* out);

}  // namespace text
}  // namespace steper
