#include "eval/metrics.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include <utf8proc.h>

#include "core/text.h"

namespace steper {

// ---- Unicode helpers matching CPython's str methods and `re` classes

namespace {

std::vector<int32_t> utf8_decode(const std::string& s) {
  std::vector<int32_t> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t n = static_cast<utf8proc_ssize_t>(s.size()), i = 0;
  while (i < n) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
    if (len <= 0) {  // invalid byte: kept as a lone surrogate-escape code point (written back as the byte)
      out.push_back(0xDC00 + p[i]);
      i += 1;
    } else {
      out.push_back(cp);
      i += len;
    }
  }
  return out;
}

void utf8_append(std::string& out, int32_t cp) {
  if (cp >= 0xDC80 && cp <= 0xDCFF) {
    out.push_back(static_cast<char>(cp - 0xDC00));
    return;
  }
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t len = utf8proc_encode_char(cp, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(len));
}

// Py_UNICODE_ISSPACE: what str.split() splits on.
bool py_is_space(int32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// `re`'s \w on str patterns: str.isalnum() or '_', i.e. letters (L*) and numbers (N*); checked against
// Python on every assigned code point by the tests.
bool py_is_word(int32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (c >= 0xDC80 && c <= 0xDCFF) return false;
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool is_cased(int32_t c) {
  utf8proc_category_t cat = utf8proc_category(c);
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) return true;
  return utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

bool is_case_ignorable(int32_t c) {
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  // Word_Break MidLetter, MidNumLet, Single_Quote
  switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4: case 0x2018: case 0x2019:
    case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
      return true;
    default:
      return false;
  }
}

// str.lower(): the full lowercase mapping (U+0130 -> "i\u0307") and the Final_Sigma rule.
std::vector<int32_t> py_lower(const std::vector<int32_t>& in) {
  std::vector<int32_t> out;
  out.reserve(in.size() + 2);
  const size_t n = in.size();
  for (size_t i = 0; i < n; ++i) {
    int32_t c = in[i];
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (c >= 0xDC80 && c <= 0xDCFF) {
      out.push_back(c);
    } else if (c == 0x130) {
      out.push_back('i');
      out.push_back(0x307);
    } else if (c == 0x3A3) {
      // final when preceded by a cased letter and not followed by one (case-ignorables skipped)
      size_t j = i;
      while (j > 0 && is_case_ignorable(in[j - 1])) --j;
      bool final_sigma = j > 0 && is_cased(in[j - 1]);
      if (final_sigma) {
        size_t k = i + 1;
        while (k < n && is_case_ignorable(in[k])) ++k;
        final_sigma = k == n || !is_cased(in[k]);
      }
      out.push_back(final_sigma ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(utf8proc_tolower(c));
    }
  }
  return out;
}

bool is_ascii_punctuation(int32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

bool run_is_article(const std::vector<int32_t>& s, size_t b, size_t e) {
  size_t len = e - b;
  if (len == 1) return s[b] == 'a';
  if (len == 2) return s[b] == 'a' && s[b + 1] == 'n';
  if (len == 3) return s[b] == 't' && s[b + 1] == 'h' && s[b + 2] == 'e';
  return false;
}

std::vector<std::string> split_tokens(const std::string& normalized) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < normalized.size()) {
    size_t j = normalized.find(' ', i);
    if (j == std::string::npos) j = normalized.size();
    if (j > i) out.push_back(normalized.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

// ---- The official normalisation: lower, drop ASCII punctuation, drop a/an/the, collapse whitespace

std::string normalize_answer(const std::string& s) {
  std::vector<int32_t> lowered = py_lower(utf8_decode(s));
  std::vector<int32_t> text;
  text.reserve(lowered.size());
  for (int32_t c : lowered)
    if (!is_ascii_punctuation(c)) text.push_back(c);

  // re.sub(r'\b(a|an|the)\b', ' ', text): a maximal run of word characters equal to an article
  std::vector<int32_t> no_articles;
  no_articles.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!py_is_word(text[i])) {
      no_articles.push_back(text[i++]);
      continue;
    }
    size_t j = i;
    while (j < text.size() && py_is_word(text[j])) ++j;
    if (run_is_article(text, i, j)) no_articles.push_back(' ');
    else no_articles.insert(no_articles.end(), text.begin() + i, text.begin() + j);
    i = j;
  }

  // ' '.join(text.split())
  std::string out;
  bool pending_space = false;
  for (int32_t c : no_articles) {
    if (py_is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    utf8_append(out, c);
  }
  return out;
}

// ---- EM, F1, Acc

double exact_match(const std::string& prediction, const std::string& gold) {
  return normalize_answer(prediction) == normalize_answer(gold) ? 1.0 : 0.0;
}

double f1_score(const std::string& prediction, const std::string& gold) {
  const std::string p = normalize_answer(prediction), g = normalize_answer(gold);
  auto special = [](const std::string& x) { return x == "yes" || x == "no" || x == "noanswer"; };
  if ((special(p) || special(g)) && p != g) return 0.0;
  std::vector<std::string> pt = split_tokens(p), gt = split_tokens(g);
  std::map<std::string, int> counts;
  for (const auto& t : gt) counts[t] += 1;
  int same = 0;
  for (const auto& t : pt) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  double precision = 1.0 * same / static_cast<double>(pt.size());
  double recall = 1.0 * same / static_cast<double>(gt.size());
  return (2 * precision * recall) / (precision + recall);
}

double accuracy(const std::string& prediction, const std::string& gold) {
  return normalize_answer(prediction).find(normalize_answer(gold)) != std::string::npos ? 1.0 : 0.0;
}

static double best_of(double (*fn)(const std::string&, const std::string&), const std::string& prediction,
                      const std::vector<std::string>& golds) {
  double best = 0.0;
  for (const auto& g : golds) best = std::max(best, fn(prediction, g));
  return best;
}

double best_exact_match(const std::string& prediction, const std::vector<std::string>& golds) {
  return best_of(exact_match, prediction, golds);
}
double best_f1(const std::string& prediction, const std::vector<std::string>& golds) {
  return best_of(f1_score, prediction, golds);
}
double best_accuracy(const std::string& prediction, const std::vector<std::string>& golds) {
  return best_of(accuracy, prediction, golds);
}

// ---- IRCoT answer extraction: re.match(".* answer is:? (.*)\\.?", sentence), trailing period removed

static bool answer_match(const std::string& sentence, std::string* answer) {
  // `.` does not cross a newline, so only the first line can match; `.*` is greedy: the last marker wins.
  const std::string line = first_line(sentence);
  static const std::string kMarker = " answer is";
  size_t pos = line.rfind(kMarker);
  while (pos != std::string::npos) {
    size_t after = pos + kMarker.size();
    size_t start = std::string::npos;
    if (after + 1 < line.size() + 1 && line.compare(after, 2, ": ") == 0) start = after + 2;
    else if (after < line.size() && line[after] == ' ') start = after + 1;
    if (start != std::string::npos) {
      if (answer) {
        *answer = line.substr(start);
        if (!answer->empty() && answer->back() == '.') answer->pop_back();
      }
      return true;
    }
    if (pos == 0) break;
    pos = line.rfind(kMarker, pos - 1);
  }
  return false;
}

const char* const kAnswerMarker = "So the answer is: ";

std::string answer_sentence(const std::string& answer) { return kAnswerMarker + answer + "."; }

std::string extract_answer(const std::string& sentence) {
  std::string answer;
  if (!answer_match(sentence, &answer)) return "";
  return answer;
}

bool is_answer_sentence(const std::string& sentence) { return answer_match(sentence, nullptr); }

}  // namespace steper
