// Training a byte-level BPE (GPT-2 pre-tokenizer) with incremental pair counts, written out as a
// standard Hugging Face tokenizer.json.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/progress.h"
#include "text/byte_level.h"
#include "text/pretokenize.h"
#include "text/tokenizer.h"

namespace steper {

namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
int32_t pair_left(uint64_t k) { return static_cast<int32_t>(k >> 32); }
int32_t pair_right(uint64_t k) { return static_cast<int32_t>(k & 0xFFFFFFFFu); }

// ---- counting pre-tokens ------------------------------------------------------------------------

// Pre-token (raw bytes) -> number of occurrences; special tokens inside the texts are cut out.
std::unordered_map<std::string, int64_t> count_words(const std::vector<std::string>& texts,
                                                     const std::vector<std::string>& specials) {
  std::unordered_map<std::string, int64_t> counts;
  text::CharSeq scratch;
  std::vector<std::string> pieces;
  auto add_section = [&](const std::string& s) {
    pieces.clear();
    text::split_pattern_pieces(text::SplitPattern::Gpt2, s, scratch, pieces);
    for (const std::string& p : pieces) ++counts[p];
  };
  for (const std::string& t : texts) {
    size_t pos = 0;
    while (pos < t.size()) {
      size_t best = std::string::npos, best_len = 0;
      for (const std::string& sp : specials) {
        size_t hit = t.find(sp, pos);
        if (hit != std::string::npos && (hit < best || (hit == best && sp.size() > best_len))) {
          best = hit;
          best_len = sp.size();
        }
      }
      if (best == std::string::npos) {
        add_section(t.substr(pos));
        break;
      }
      if (best > pos) add_section(t.substr(pos, best - pos));
      pos = best + best_len;
    }
  }
  return counts;
}

// ---- merging one word
// -----------------------------------------------------------------------------

struct PairChange {
  uint64_t pair;
  int delta;
};

// Replaces every (a, b) in word by c, left to right, recording how the neighbouring pairs change.
void word_merge(std::vector<int32_t>& word, int32_t a, int32_t b, int32_t c,
                std::vector<PairChange>& changes) {
  size_t i = 0;
  while (i + 1 < word.size()) {
    if (word[i] == a && word[i + 1] == b) {
      if (i > 0) {
        changes.push_back({pair_key(word[i - 1], a), -1});
        changes.push_back({pair_key(word[i - 1], c), +1});
      }
      word[i] = c;
      word.erase(word.begin() + static_cast<long>(i) + 1);
      if (i + 1 < word.size()) {
        changes.push_back({pair_key(b, word[i + 1]), -1});
        changes.push_back({pair_key(c, word[i + 1]), +1});
      }
    }
    ++i;
  }
}

}  // namespace

// ---- training -----------------------------------------------------------------------------------

std::string bpe_train(const std::vector<std::string>& texts, const BpeTrainOptions& opts) {
  const size_t n_special = opts.special_tokens.size();
  if (opts.vocab_size < 256 + static_cast<int>(n_special)) {
    throw Error("bpe_train: vocab_size " + std::to_string(opts.vocab_size) +
                " is smaller than the 256 byte tokens plus " + std::to_string(n_special) +
                " special tokens");
  }
  std::unordered_set<std::string> seen_special;
  for (const std::string& s : opts.special_tokens) {
    if (s.empty()) throw Error("bpe_train: a special token is empty");
    if (!seen_special.insert(s).second)
      throw Error("bpe_train: special token \"" + s + "\" repeated");
  }
  const int64_t min_frequency = std::max(1, opts.min_frequency);

  // Unique pre-tokens in a fixed order, as byte-id sequences.
  std::unordered_map<std::string, int64_t> counted = count_words(texts, opts.special_tokens);
  std::vector<std::pair<std::string, int64_t>> sorted(counted.begin(), counted.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> word_count;
  for (const auto& wc : sorted) {
    if (wc.first.size() < 2) continue;  // no pairs
    std::vector<int32_t> w;
    for (unsigned char ch : wc.first) w.push_back(ch);
    words.push_back(std::move(w));
    word_count.push_back(wc.second);
  }

  std::vector<std::string> tokens;  // id -> bytes
  std::unordered_map<std::string, int32_t> token_index;
  for (int b = 0; b < 256; ++b) {
    tokens.emplace_back(1, static_cast<char>(b));
    token_index[tokens.back()] = b;
  }

  // Pair counts and the words each pair (may) occur in.
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int32_t>> pair_words;
  for (size_t w = 0; w < words.size(); ++w) {
    for (size_t i = 0; i + 1 < words[w].size(); ++i) {
      uint64_t k = pair_key(words[w][i], words[w][i + 1]);
      pair_count[k] += word_count[w];
      std::vector<int32_t>& list = pair_words[k];
      if (list.empty() || list.back() != static_cast<int32_t>(w))
        list.push_back(static_cast<int32_t>(w));
    }
  }

  // Most frequent pair first; ties go to the pair whose (left bytes, right bytes) sorts first.
  struct Entry {
    int64_t count;
    uint64_t pair;
  };
  auto lower = [&tokens](const Entry& x, const Entry& y) {
    if (x.count != y.count) return x.count < y.count;
    const std::string& xa = tokens[pair_left(x.pair)];
    const std::string& ya = tokens[pair_left(y.pair)];
    if (xa != ya) return xa > ya;
    return tokens[pair_right(x.pair)] > tokens[pair_right(y.pair)];
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(lower)> queue(lower);
  for (const auto& pc : pair_count) queue.push({pc.second, pc.first});

  const size_t target = static_cast<size_t>(opts.vocab_size) - n_special;
  std::vector<std::pair<int32_t, int32_t>> merges;
  std::vector<PairChange> changes;
  std::unordered_set<uint64_t> touched;
  Progress progress("bpe merges", target > 256 ? target - 256 : 0, "tokens");
  while (tokens.size() < target && !queue.empty()) {
    Entry top = queue.top();
    queue.pop();
    auto it = pair_count.find(top.pair);
    int64_t current = it == pair_count.end() ? 0 : it->second;
    if (current != top.count) {  // stale entry
      if (current > 0) queue.push({current, top.pair});
      continue;
    }
    if (current < min_frequency) break;

    int32_t a = pair_left(top.pair), b = pair_right(top.pair);
    std::string merged = tokens[a] + tokens[b];
    int32_t c;
    auto found = token_index.find(merged);
    if (found != token_index.end()) {
      c = found->second;
    } else {
      c = static_cast<int32_t>(tokens.size());
      tokens.push_back(merged);
      token_index.emplace(merged, c);
      progress.add(1);
    }
    merges.emplace_back(a, b);

    std::vector<int32_t> where = std::move(pair_words[top.pair]);
    pair_words.erase(top.pair);
    pair_count.erase(top.pair);
    std::sort(where.begin(), where.end());
    where.erase(std::unique(where.begin(), where.end()), where.end());
    touched.clear();
    for (int32_t w : where) {
      changes.clear();
      word_merge(words[w], a, b, c, changes);
      for (const PairChange& ch : changes) {
        if (ch.pair == top.pair) continue;
        pair_count[ch.pair] += ch.delta * word_count[w];
        touched.insert(ch.pair);
        if (ch.delta > 0) {
          std::vector<int32_t>& list = pair_words[ch.pair];
          if (list.empty() || list.back() != w) list.push_back(w);
        }
      }
    }
    for (uint64_t k : touched) {
      auto pc = pair_count.find(k);
      if (pc == pair_count.end()) continue;
      if (pc->second <= 0) {
        pair_count.erase(pc);
      } else {
        queue.push({pc->second, k});
      }
    }
  }
  progress.finish();

  // ---- tokenizer.json
  // ----------------------------------------------------------------------------
  using ojson = nlohmann::ordered_json;
  ojson vocab = ojson::object();
  for (size_t id = 0; id < tokens.size(); ++id) vocab[text::byte_level_encode(tokens[id])] = id;
  ojson added = ojson::array();
  for (size_t k = 0; k < n_special; ++k) {
    size_t id = tokens.size() + k;
    vocab[opts.special_tokens[k]] = id;
    added.push_back(ojson{{"id", id},
                          {"content", opts.special_tokens[k]},
                          {"single_word", false},
                          {"lstrip", false},
                          {"rstrip", false},
                          {"normalized", false},
                          {"special", true}});
  }
  ojson merge_list = ojson::array();
  for (const auto& m : merges) {
    merge_list.push_back(text::byte_level_encode(tokens[m.first]) + " " +
                         text::byte_level_encode(tokens[m.second]));
  }
  ojson byte_level = {{"type", "ByteLevel"},
                      {"add_prefix_space", false},
                      {"trim_offsets", true},
                      {"use_regex", true}};
  ojson root = ojson::object();
  root["version"] = "1.0";
  root["truncation"] = nullptr;
  root["padding"] = nullptr;
  root["added_tokens"] = added;
  root["normalizer"] = nullptr;
  root["pre_tokenizer"] = byte_level;
  root["post_processor"] = byte_level;
  root["decoder"] = byte_level;
  ojson model = ojson::object();
  model["type"] = "BPE";
  model["dropout"] = nullptr;
  model["unk_token"] = nullptr;
  model["continuing_subword_prefix"] = nullptr;
  model["end_of_word_suffix"] = nullptr;
  model["fuse_unk"] = false;
  model["byte_fallback"] = false;
  model["ignore_merges"] = false;
  model["vocab"] = vocab;
  model["merges"] = merge_list;
  root["model"] = model;
  return root.dump(2) + "\n";
}

}  // namespace steper
