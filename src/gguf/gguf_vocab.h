// The tokenizer of a Hugging Face model folder as llama.cpp's GGUF metadata expresses it ("gpt2" byte-level
// BPE): tokens, token types, merges, the pre-tokenizer name, special ids. Follows llama.cpp's converter
// (convert_hf_to_gguf.py get_vocab_base, gguf-py SpecialVocab).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/llama_config.h"

namespace steper {

// llama.cpp token types (llama_token_type / gguf TokenType).
enum GgufTokenType : int32_t {
  kTokenNormal = 1, kTokenUnknown = 2, kTokenControl = 3, kTokenUserDefined = 4, kTokenUnused = 5, kTokenByte = 6,
};

struct GgufVocab {
  std::vector<std::string> tokens;  // index = token id
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;  // "left right", by rank
  std::string pre;                  // llama.cpp pre-tokenizer name: "llama-bpe", "qwen2" or "gpt-2"
  int32_t bos_id = -1, eos_id = -1;
  bool add_bos = false, add_eos = false;
  std::string chat_template;        // from tokenizer_config.json, empty when none
};

// The llama.cpp pre-tokenizer name for a tokenizer.json's pre_tokenizer (and normalizer), or throws Error
// naming `where` and the field when llama.cpp has no equivalent.
std::string gguf_pre_tokenizer_name(const nlohmann::json& tokenizer, const std::string& where);

// Reads dir/tokenizer.json, and dir/tokenizer_config.json when present; config is dir/config.json as read
// (model/llama_config.h: its vocab_size, bos and eos ids). The vocabulary is padded to vocab_size entries with "[PAD<id>]" tokens of type unused, as llama.cpp's converter does.
// Throws Error naming the file and field for tokenizers GGUF cannot express (not byte-level BPE, unknown
// pre-tokenizer, ids past n_vocab, no end-of-sequence token).
GgufVocab gguf_vocab_read(const std::string& dir, const LlamaConfig& config);

// The converter's heuristic for added tokens that are control tokens although not marked special.
bool gguf_token_looks_special(const std::string& token);

}  // namespace steper
