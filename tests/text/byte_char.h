// GPT-2's bytes_to_unicode for the tests, written independently of the library's table.
#pragma once

#include <string>

namespace steper {

inline std::string byte_char(int b) {
  auto printable = [](int k) { return (k >= 33 && k <= 126) || (k >= 161 && k <= 172) || (k >= 174 && k <= 255); };
  int cp = b;
  if (!printable(b)) {
    int n = 0;
    for (int k = 0; k < b; ++k)
      if (!printable(k)) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

}  // namespace steper
