// Hugging Face tokenizer.json: byte-level BPE (GPT-2, Llama-3, Qwen2/Qwen3 style).
//
// Encoding: added tokens are cut out of the raw text first (longest match at the earliest position;
// lstrip/rstrip drop the whitespace beside them; single_word needs non-word neighbours); the rest is
// normalised (NFC, ...), then tokens marked normalized are cut out, then the pre-tokenizer splits it
// (the GPT-2, Llama-3 and Qwen2 split patterns are hand-written matchers over Unicode classes) and
// each piece is merged by BPE rank (ignore_merges: a piece found whole in the vocabulary is one
// token). Results are cached per piece. Matches the reference encoder (transformers.js) on the real
// Llama-3 and Qwen3 files; see tests/text.
//
// bos/eos: tokenizer_config.json beside the file (from_file) wins; otherwise the post-processor's
// leading/trailing special token; otherwise an added token named <|begin_of_text|>, <s>, <bos> /
// <|end_of_text|>, <|endoftext|>, </s>, <eos>.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace steper {

class Tokenizer {
 public:
  // Throws Error naming the file and field for unsupported or malformed tokenizers.
  // tokenizer_json_path may also be a model folder (its tokenizer.json is read). A
  // tokenizer_config.json beside the file, when present, sets bos/eos (bos_token, eos_token).
  static Tokenizer from_file(const std::string& tokenizer_json_path);
  static Tokenizer from_json_string(const std::string& json_text, const std::string& where);
  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&);
  Tokenizer& operator=(const Tokenizer&);

  // add_special: apply the post-processor (e.g. Llama-3's <|begin_of_text|>).
  // Safe to call from several threads at once.
  std::vector<int32_t> encode(const std::string& text, bool add_special = false) const;
  // Ill-formed UTF-8 in the result becomes U+FFFD. Throws Error for an id outside the vocabulary.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  std::string id_to_token(int32_t id) const;  // the raw vocabulary string
  // The bytes the token stands for (an added token's content); "" outside the vocabulary.
  // Concatenating these gives the exact decoded bytes, also mid UTF-8 sequence (for streaming).
  std::string token_bytes(int32_t id) const;
  int32_t token_to_id(const std::string& token) const;  // -1 when absent
  size_t vocab_size() const;                            // including added tokens
  int32_t bos_id() const;                               // -1 when none
  int32_t eos_id() const;                               // -1 when none
  bool is_special(int32_t id) const;
  bool is_added(int32_t id) const;  // an added token (special or not)

  // For GGUF export: the ordered vocabulary, the merges as "a b" strings, the pre-tokenizer kind
  // ("llama3", "qwen2", "gpt2", ...), and which ids are added/special tokens. Ids without a token
  // appear as "[PAD<id>]" in vocabulary().
  std::vector<std::string> vocabulary() const;
  std::vector<std::string> merges() const;
  std::string pretokenizer_kind() const;
  std::string json() const;  // the tokenizer.json text it was read from (or trained into)

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

struct BpeTrainOptions {
  int vocab_size = 4096;  // 256 byte tokens + merges + special tokens
  std::vector<std::string> special_tokens = {"<|endoftext|>"};
  int min_frequency = 2;
};
// Trains a byte-level BPE on the texts (GPT-2-style pre-tokenizer) and returns tokenizer.json text.
// Byte b gets id b; each merge adds the next id (the most frequent pair; ties go to the pair whose
// left, then right, token bytes sort first); special tokens take the last ids and are cut out of
// the texts before counting. Stops early when no pair occurs min_frequency times. Layout: model BPE
// ("a b" merges), ByteLevel pre-tokenizer/decoder/post-processor, no normaliser, added_tokens for
// the special tokens; llama.cpp's pre-tokenizer for it is "gpt2".
std::string bpe_train(const std::vector<std::string>& texts, const BpeTrainOptions& opts);

}  // namespace steper
