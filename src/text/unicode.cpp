#include "text/unicode.h"

#include <utf8proc.h>

#include <cstdlib>

namespace steper {
namespace text {

// ---- UTF-8 ------------------------------------------------------------------------------------

uint32_t utf8_next(const char* s, size_t n, size_t i, size_t* len, bool* valid) {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(s);
  unsigned char b0 = u[i];
  *valid = false;
  *len = 1;
  if (b0 < 0x80) {
    *valid = true;
    return b0;
  }
  int need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  uint32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0xFFFD;
  }
  for (int k = 1; k <= need; ++k) {
    if (i + k >= n) return 0xFFFD;
    unsigned char b = u[i + k];
    unsigned char l = (k == 1) ? lo : 0x80, h = (k == 1) ? hi : 0xBF;
    if (b < l || b > h) return 0xFFFD;
    cp = (cp << 6) | (b & 0x3F);
    *len = k + 1;
  }
  *valid = true;
  return cp;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_lossy(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    size_t len;
    bool valid;
    utf8_next(bytes.data(), bytes.size(), i, &len, &valid);
    if (valid) {
      out.append(bytes, i, len);
    } else {
      utf8_append(out, 0xFFFD);
    }
    i += len;
  }
  return out;
}

// ---- character classes ------------------------------------------------------------------------

static bool is_white_space(uint32_t cp) {
  // Unicode White_Space property.
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

static CharClass char_class_slow(uint32_t cp) {
  if (is_white_space(cp)) return kSpace;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return kNumber;
    default:
      return kOther;
  }
}

namespace {
struct ClassTable {
  uint8_t cls[0x800];
  ClassTable() {
    for (uint32_t cp = 0; cp < 0x800; ++cp) cls[cp] = char_class_slow(cp);
  }
};
}  // namespace

CharClass char_class(uint32_t cp) {
  static const ClassTable table;
  if (cp < 0x800) return static_cast<CharClass>(table.cls[cp]);
  return char_class_slow(cp);
}

void CharSeq::assign(const std::string& s) {
  cp.clear();
  cls.clear();
  offset.clear();
  size_t i = 0;
  while (i < s.size()) {
    size_t len;
    bool valid;
    uint32_t c = utf8_next(s.data(), s.size(), i, &len, &valid);
    cp.push_back(c);
    cls.push_back(valid ? char_class(c) : kOther);
    offset.push_back(i);
    i += len;
  }
  offset.push_back(s.size());
}

// ---- normalisation ----------------------------------------------------------------------------

static std::string normalize_valid(const std::string& s, NormalForm form) {
  if (s.empty()) return s;
  if (form == NormalForm::Lowercase) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
      size_t len;
      bool valid;
      uint32_t c = utf8_next(s.data(), s.size(), i, &len, &valid);
      utf8_append(out, static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
      i += len;
    }
    return out;
  }
  int options = UTF8PROC_STABLE;
  switch (form) {
    case NormalForm::NFC:
      options |= UTF8PROC_COMPOSE;
      break;
    case NormalForm::NFD:
      options |= UTF8PROC_DECOMPOSE;
      break;
    case NormalForm::NFKC:
      options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
      break;
    case NormalForm::NFKD:
      options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
      break;
    default:
      break;
  }
  utf8proc_uint8_t* result = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                    static_cast<utf8proc_ssize_t>(s.size()), &result,
                                    static_cast<utf8proc_option_t>(options));
  if (n < 0) {
    free(result);
    return s;
  }
  std::string out(reinterpret_cast<char*>(result), static_cast<size_t>(n));
  free(result);
  return out;
}

std::string unicode_normalize(const std::string& s, NormalForm form) {
  // Fast path: pure ASCII is unchanged by composition forms.
  bool ascii = true;
  for (unsigned char c : s) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && form != NormalForm::Lowercase) return s;
  std::string out;
  size_t i = 0, run_start = 0;
  while (i < s.size()) {
    size_t len;
    bool valid;
    utf8_next(s.data(), s.size(), i, &len, &valid);
    if (!valid) {
      out += normalize_valid(s.substr(run_start, i - run_start), form);
      out.append(s, i, len);
      run_start = i + len;
    }
    i += len;
  }
  out += normalize_valid(s.substr(run_start), form);
  return out;
}

}  // namespace text
}  // namespace steper
