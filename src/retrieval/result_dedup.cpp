#include "retrieval/result_dedup.h"

#include <cctype>
#include <unordered_set>

namespace steper {

std::string passage_dedup_key(const Passage& p) {
  size_t b = 0, e = p.text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(p.text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(p.text[e - 1]))) --e;
  std::string key = p.text.substr(b, e - b);
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::vector<ScoredPassage> top_k_distinct(int k, const std::function<std::vector<ScoredPassage>(size_t want)>& fetch) {
  size_t want = static_cast<size_t>(k);
  for (;;) {
    std::vector<ScoredPassage> ranked = fetch(want);
    std::vector<ScoredPassage> out;
    std::unordered_set<std::string> seen;
    for (auto& sp : ranked) {
      if (static_cast<int>(out.size()) >= k) break;
      if (seen.insert(passage_dedup_key(sp.passage)).second) out.push_back(std::move(sp));
    }
    if (static_cast<int>(out.size()) >= k || ranked.size() < want) return out;
    want *= 2;
  }
}

}  // namespace steper
