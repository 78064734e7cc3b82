// `steper init`: a from-scratch model folder (BPE tokenizer trained on the corpus, random Llama weights).
#include <filesystem>

#include "core/error.h"
#include "core/progress.h"
#include "model/llama.h"
#include "model/llama_sizes.h"
#include "model/model.h"

namespace steper {

LlamaConfig llama_config_for_size(const std::string& size) {
  LlamaConfig c;
  c.max_position_embeddings = 2048;
  c.rope_theta = 10000.0;
  c.rms_norm_eps = 1e-6;
  if (size == "tiny") {
    c.hidden_size = 128;
    c.num_hidden_layers = 4;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.intermediate_size = 384;
    c.tie_word_embeddings = true;
  } else if (size == "small") {
    c.hidden_size = 256;
    c.num_hidden_layers = 6;
    c.num_attention_heads = 8;
    c.num_key_value_heads = 4;
    c.intermediate_size = 768;
    c.tie_word_embeddings = false;
  } else {
    throw Error("unknown model size \"" + size + "\" (expected tiny or small)");
  }
  c.head_dim = c.hidden_size / c.num_attention_heads;
  return c;
}

void init_model_folder(const std::vector<std::string>& texts, const std::string& dir, const std::string& size,
                       uint64_t seed, int vocab_size) {
  LlamaConfig cfg = llama_config_for_size(size);
  if (texts.empty()) throw Error(dir + ": no texts to train the tokenizer on");
  BpeTrainOptions opts;
  opts.vocab_size = vocab_size;
  std::string tokenizer_json = bpe_train(texts, opts);
  Tokenizer tok = Tokenizer::from_json_string(tokenizer_json, dir + "/tokenizer.json");
  cfg.vocab_size = static_cast<int64_t>(tok.vocab_size());
  int32_t eos = tok.eos_id() >= 0 ? tok.eos_id() : tok.token_to_id("<|endoftext|>");
  if (eos < 0) throw Error(dir + "/tokenizer.json: the trained tokenizer has no end-of-text token");
  cfg.eos_token_id = eos;
  cfg.eos_token_ids = {eos};
  cfg.bos_token_id = tok.bos_id();
  torch::manual_seed(seed);
  Llama model(cfg);  // normal(0, 0.02) weights, unit norms, as transformers initialises them
  llama_save(model, dir, tokenizer_json, "float32");
}

}  // namespace steper
