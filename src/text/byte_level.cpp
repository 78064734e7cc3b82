#include "text/byte_level.h"

#include <unordered_map>

#include "text/unicode.h"

namespace steper {
namespace text {

namespace {
struct ByteTables {
  std::string chars[256];
  std::unordered_map<uint32_t, uint8_t> to_byte;
  ByteTables() {
    // bytes_to_unicode() of GPT-2: printable bytes keep their code point, the others are moved to
    // 256, 257, ... in byte order.
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      uint32_t cp = printable ? static_cast<uint32_t>(b) : next++;
      utf8_append(chars[b], cp);
      to_byte[cp] = static_cast<uint8_t>(b);
    }
  }
};
const ByteTables& tables() {
  static const ByteTables t;
  return t;
}
}  // namespace

const std::string& byte_level_char(uint8_t b) { return tables().chars[b]; }

std::string byte_level_encode(const std::string& raw) {
  const ByteTables& t = tables();
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) out += t.chars[c];
  return out;
}

bool byte_level_decode(const std::string& token, std::string* out) {
  const ByteTables& t = tables();
  out->clear();
  size_t i = 0;
  while (i < token.size()) {
    size_t len;
    bool valid;
    uint32_t cp = utf8_next(token.data(), token.size(), i, &len, &valid);
    if (!valid) return false;
    auto it = t.to_byte.find(cp);
    if (it == t.to_byte.end()) return false;
    out->push_back(static_cast<char>(it->second));
    i += len;
  }
  return true;
}

}  // namespace text
}  // namespace steper
