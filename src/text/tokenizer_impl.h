// Private state of steper::Tokenizer, shared by tokenizer_load.cpp and tokenizer.cpp.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/pretokenize.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace steper {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

// One step of the pre-tokenizer: a Split on a known pattern or a literal string, or ByteLevel.
struct PreTokenizeStep {
  enum Kind { kSplit, kByteLevel } kind = kSplit;
  text::SplitPattern pattern = text::SplitPattern::None;
  std::string literal;  // Split with {"String": ...}
  text::SplitBehavior behavior = text::SplitBehavior::Isolated;
  bool invert = false;
  bool add_prefix_space = false;  // ByteLevel
  bool use_regex = true;          // ByteLevel: split with the GPT-2 pattern
};

// A byte-keyed trie over added-token contents; finds the longest token starting at a position.
struct AddedTokenTrie {
  struct Node {
    std::unordered_map<unsigned char, int32_t> next;
    int32_t token = -1;  // index into Impl::added
  };
  std::vector<Node> nodes;
  bool first_byte[256] = {};
  void clear();
  void insert(const std::string& s, int32_t token_index);
  bool empty() const { return nodes.size() <= 1; }
};

// Per-pre-token BPE results (copying a Tokenizer gives the copy an empty cache).
struct BpeCache {
  std::mutex mu;
  std::unordered_map<std::string, std::vector<int32_t>> map;
  BpeCache() = default;
  BpeCache(const BpeCache&) {}
  BpeCache& operator=(const BpeCache&) { return *this; }
};

struct Tokenizer::Impl {
  Impl() {
    for (int b = 0; b < 256; ++b) byte_ids[b] = -1;
    raw_trie.clear();
    normalized_trie.clear();
  }

  std::string where;      // file name for messages
  std::string json_text;  // what it was read from

  // model (BPE)
  std::vector<std::string> id_token;  // id -> vocabulary string ("" for unused ids)
  std::vector<std::string> id_bytes;  // id -> raw bytes the token stands for
  std::vector<uint8_t> id_is_added;   // id -> 1 when an added token
  std::unordered_map<std::string, int32_t> token_ids;  // vocabulary and added tokens
  std::unordered_map<std::string, int32_t> bytes_ids;  // raw bytes -> id (model vocabulary)
  int32_t byte_ids[256];
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merge_of;  // (a,b) -> (rank, merged)
  std::vector<std::string> merge_strings;                              // "a b" by rank
  bool ignore_merges = false;
  int32_t unk_id = -1;

  // added tokens
  std::vector<AddedToken> added;
  std::vector<int32_t> added_index_of_id;  // id -> index into added, -1
  AddedTokenTrie raw_trie;                 // tokens matched before normalisation
  AddedTokenTrie normalized_trie;          // tokens matched after normalisation

  std::vector<text::NormalForm> normalizers;
  std::vector<PreTokenizeStep> pre_steps;
  std::string kind;  // "llama3", "qwen2", "gpt2"

  std::vector<int32_t> special_prefix, special_suffix;  // post-processor
  int32_t bos = -1, eos = -1;

  mutable BpeCache cache;

  // tokenizer.cpp
  void encode_section(const std::string& section, std::vector<int32_t>& out) const;
  void bpe_piece(const std::string& piece, std::vector<int32_t>& out) const;
  void pre_tokenize(const std::string& section, std::vector<std::string>& pieces) const;
  void split_added(const std::string& s, const AddedTokenTrie& trie,
                   std::vector<std::pair<std::string, int32_t>>& out) const;
};

// tokenizer_load.cpp
void tokenizer_load(Tokenizer::Impl& impl, const std::string& json_text, const std::string& where);

}  // namespace steper
