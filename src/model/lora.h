// LoRA adapters in PEFT's layout (docs/DESIGN.md section 8): for each target module W [out, in] of each
// layer, A [r, in] and B [out, r] with W' = W + scale * B A, scale = lora_alpha / r (lora_alpha / sqrt(r)
// with use_rslora). A folder holds adapter_config.json and adapter_model.safetensors with PEFT's tensor
// names (base_model.model.model.layers.<l>.self_attn.q_proj.lora_A.weight, ...), so Hugging Face PEFT
// loads it. Included by model/ and distill/ sources only: it pulls in libtorch.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/llama.h"
#include "model/lora_config.h"

namespace steper {

// The [out, in] shape of a module LoRA can target (lora_module_names) for `cfg`.
std::pair<int64_t, int64_t> lora_module_shape(const LlamaConfig& cfg, const std::string& module);

class LoraAdapters {
 public:
  // Fresh adapters: A as PEFT initialises it (Kaiming-uniform, a = sqrt(5)), B zero, so W' = W at first.
  LoraAdapters(const LlamaConfig& model, const LoraConfig& cfg, uint64_t seed);
  // An adapter folder; throws Error naming the file and tensor when it does not fit `model`.
  static LoraAdapters load(const std::string& dir, const LlamaConfig& model, torch::Device device = torch::kCPU);
  // Writes adapter_config.json and adapter_model.safetensors (float32) atomically into dir.
  void save(const std::string& dir) const;

  const LoraConfig& config() const { return cfg_; }
  bool targets(const std::string& module) const;
  // scale * B (A dropout(x)) for module `module` of layer `layer`; x [..., in] -> [..., out].
  torch::Tensor delta(int64_t layer, const std::string& module, const torch::Tensor& x, bool training) const;
  // The trainable tensors under PEFT's names, in layer, module, A-then-B order.
  std::vector<std::pair<std::string, torch::Tensor>> named_tensors() const;
  // W += scale * B A for every adapted weight of `model` (the merged model no longer needs the adapter).
  void merge_into(Llama& model) const;
  void to(torch::Device device);

 private:
  LoraAdapters(LoraConfig cfg, const LlamaConfig& model);
  struct Pair {
    torch::Tensor a, b;
  };
  LoraConfig cfg_;
  int64_t layers_ = 0;
  std::map<std::pair<int64_t, std::string>, Pair> pairs_;
};

// Holds the frozen base's projection matrices (the q/k/v/o/gate/up/down weights of every layer, adapted
// or not) in bfloat16, about halving the base's memory; embeddings, lm_head, norms and biases stay float32,
// as do the adapters (and what trains them). The forward then computes each base projection in bfloat16
// (its input rounded to bfloat16, its output back in float32) and the LoRA path in float32. For a LoRA
// run only: the base's gradients are not needed (call after freezing it).
void lora_hold_base_in_bfloat16(Llama& model);

// PEFT's name of a LoRA tensor: base_model.model.model.layers.<l>.<self_attn|mlp>.<module>.lora_<A|B>.weight
std::string lora_tensor_name(int64_t layer, const std::string& module, char which);

}  // namespace steper
