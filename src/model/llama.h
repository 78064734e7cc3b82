// The Llama decoder as Hugging Face defines it (LlamaForCausalLM, Qwen2ForCausalLM), in libtorch.
// Included only by model/ and distill/ sources: it pulls in <torch/torch.h>.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/llama_config.h"

namespace steper {


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
