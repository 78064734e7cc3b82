// A Llama or Qwen2 model's configuration, as Hugging Face's config.json holds it (torch-free: the GGUF
// exporter reads model folders with it too).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace steper {

struct LlamaConfig {
  std::string architecture = "LlamaForCausalLM";  // or Qwen2ForCausalLM
  std::string model_type = "llama";               // or qwen2
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // hidden_size / num_attention_heads unless config.json says otherwise
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  // rope_scaling: "llama3" {factor, low_freq_factor, high_freq_factor, original_max_position_embeddings},
  // "linear" {factor}; rope_type empty = none.
  std::string rope_type;
  double rope_factor = 1.0, rope_low_freq_factor = 1.0, rope_high_freq_factor = 4.0;
  int64_t rope_original_max_position = 8192;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (true for Qwen2)
  bool attention_out_bias = false;  // o_proj bias too (Llama's attention_bias covers all four)
  int64_t bos_token_id = -1, eos_token_id = -1;
  std::vector<int64_t> eos_token_ids;  // all end ids when config.json lists several (eos_token_id is the first)
  std::string torch_dtype = "float32";

  // Hugging Face's config.json, read by the one set of rules every reader of it uses (the model
  // loader, the GGUF exporter). Throws Error naming `where` (the config.json path) and the field for
  // missing, malformed or inconsistent fields (validate_fields; not the memory check).
  static LlamaConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
  // The consistency checks of the fields (also for configs built in code; `where` names the source):
  // sizes positive and divisible, max_position_embeddings positive, bos/eos ids inside the vocabulary.
  void validate_fields(const std::string& where) const;
  // validate_fields, and float32 weights that fit in this machine's memory (refused with both figures
  // before anything is allocated): what a model to be loaded must pass.
  void validate(const std::string& where) const;
  // Number of weights (as a double: absurd configs must not overflow).
  double parameter_count() const;
};

// DIR/config.json read with LlamaConfig::from_json; a missing file is an error naming it.
LlamaConfig llama_config_read(const std::string& dir);

}  // namespace steper
