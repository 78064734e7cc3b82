// The Llama decoder as Hugging Face defines it (LlamaForCausalLM, Qwen2ForCausalLM), in libtorch.
// Included only by model/ and distill/ sources: it pulls in <torch/torch.h>.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
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
  // rope_scaling {"rope_type": "llama3", factor, low_freq_factor, high_freq_factor,
  // original_max_position_embeddings}; rope_type empty = none.
  std::string rope_type;
  double rope_factor = 1.0, rope_low_freq_factor = 1.0, rope_high_freq_factor = 4.0;
  int64_t rope_original_max_position = 8192;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (true for Qwen2)
  bool attention_out_bias = false;  // o_proj bias too (Llama's attention_bias covers all four)
  int64_t bos_token_id = -1, eos_token_id = -1;
  std::vector<int64_t> eos_token_ids;  // all end ids when config.json lists several (eos_token_id is the first)
  std::string torch_dtype = "float32";

  // Throws Error naming `where` (the config.json path) and the field for missing/inconsistent fields.
  static LlamaConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
  // The consistency checks from_json applies (also for configs built in code); `where` names the source.
  // Also: max_position_embeddings positive, bos/eos ids inside the vocabulary, and float32 weights that
  // fit in this machine's memory (refused with both figures before anything is allocated).
  void validate(const std::string& where) const;
  // Number of weights (as a double: absurd configs must not overflow).
  double parameter_count() const;
};

// Rotary inverse frequencies [head_dim / 2] (float32), with llama3 rope_scaling applied when configured,
// as Hugging Face's _compute_default_rope_parameters / _compute_llama3_parameters compute them.
torch::Tensor rope_inv_freq(const LlamaConfig& cfg);

class LoraAdapters;  // model/lora.h

// Per-layer key/value cache for incremental decoding. k[l], v[l]: [B, n_kv_heads, capacity, head_dim], of
// which the first `length` columns hold keys and values (without gradients the buffers have room to grow
// in place; with gradients capacity == length).
struct KVCache {
  std::vector<torch::Tensor> k, v;
  int64_t length = 0;
};

class LlamaImpl : public torch::nn::Module {
 public:
  explicit LlamaImpl(const LlamaConfig& cfg);

  // ids: [B, T] int64. With a cache, positions continue from cache->length and the cache grows.
  // key_valid: optional [B, T_total] bool marking real (non-padding) keys, for left-padded batches;
  // positions then count only valid keys. Returns the final-normed hidden states [B, T, D].
  torch::Tensor forward_hidden(const torch::Tensor& ids, KVCache* cache = nullptr,
                               const torch::Tensor& key_valid = {});
  // The training forward over rows that pack several sequences (distill/packing.h): ids [B, T];
  // positions [B, T] int64, each token's position in its own sequence; allowed [B, T, T] bool, query t may
  // see key u (only u <= t: a row is causal in its order). Returns the final-normed hidden states [B, T, D].
  torch::Tensor forward_hidden_packed(const torch::Tensor& ids, const torch::Tensor& positions,
                                      const torch::Tensor& allowed);
  // hidden [..., D] -> logits [..., V]. Lets the trainer score only target positions.
  torch::Tensor logits(const torch::Tensor& hidden);
  torch::Tensor forward(const torch::Tensor& ids) { return logits(forward_hidden(ids)); }

  // Parameters under their Hugging Face names (model.embed_tokens.weight, model.layers.0.self_attn.q_proj.weight,
  // ..., lm_head.weight unless tied).
  std::vector<std::pair<std::string, torch::Tensor>> hf_named_parameters();
  const LlamaConfig& config() const { return cfg_; }

  // Training options of the forward passes. LoRA: every targeted projection adds its adapter's delta
  // (the base weights stay as they are; nullptr removes it). Gradient checkpointing: in grad mode each
  // layer keeps only its input and is computed again in the backward pass (model/recompute.h).
  void set_lora(std::shared_ptr<const LoraAdapters> adapters) { lora_ = std::move(adapters); }
  void set_grad_checkpoint(bool on) { grad_checkpoint_ = on; }

 private:
  struct LayerInputs;
  torch::Tensor run_layers(torch::Tensor x, const LayerInputs& in, KVCache* cache);
  torch::Tensor layer(size_t l, const torch::Tensor& x, const LayerInputs& in, KVCache* cache);
  LlamaConfig cfg_;
  struct Layers;
  std::shared_ptr<Layers> layers_;
  std::shared_ptr<const LoraAdapters> lora_;
  bool grad_checkpoint_ = false;
};
TORCH_MODULE(Llama);

// Model folders (config.json + model.safetensors or shards with model.safetensors.index.json).
Llama llama_load(const std::string& dir, torch::Device device = torch::kCPU);
// Writes config.json, model.safetensors (dtype "float32", "float16" or "bfloat16"), tokenizer.json and
// generation_config.json atomically into dir.
void llama_save(Llama& model, const std::string& dir, const std::string& tokenizer_json,
                const std::string& dtype = "float32");

}  // namespace steper
