// The toy Llama configuration the tests build models from; a test sets only the fields it needs
// otherwise (the vocabulary of its tokenizer, more layers).
#pragma once

#include "model/llama_config.h"

namespace steper {

// Two layers of 4 query heads sharing 2 key/value heads (grouped-query attention), head_dim 6 (not
// hidden / heads: both paths are checked), and a small rotary base so that positions matter visibly in
// a short sequence. qwen: Qwen2's architecture (q/k/v biases); tied: lm_head shares the embeddings.
inline LlamaConfig toy_llama_config(bool qwen = false, bool tied = false) {
  LlamaConfig c;
  if (qwen) {
    c.architecture = "Qwen2ForCausalLM";
    c.model_type = "qwen2";
    c.attention_bias = true;
  }
  c.vocab_size = 53;
  c.hidden_size = 24;
  c.intermediate_size = 40;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 6;
  c.max_position_embeddings = 512;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 500.0;
  c.tie_word_embeddings = tied;
  return c;
}

}  // namespace steper
