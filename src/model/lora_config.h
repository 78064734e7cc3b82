// A LoRA adapter's settings as PEFT's adapter_config.json holds them (docs/DESIGN.md section 8), torch-free:
// the trainer's settings and the CLI include it; the adapters themselves are model/lora.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace steper {

struct LoraConfig {
  int64_t rank = 8;                 // --lora-rank (PEFT "r")
  double alpha = 16;                // --lora-alpha
  double dropout = 0;               // --lora-dropout: on the adapter's input, in training only
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj"};  // --lora-targets
  bool use_rslora = false;
  std::string base_model;           // base_model_name_or_path: the folder the adapter was trained on
  double scale() const;
  // Throws Error naming the flag (or, with `where`, the adapter_config.json field) when out of range.
  void validate(const std::string& where = "") const;
  nlohmann::json to_peft_json() const;
  static LoraConfig from_peft_json(const nlohmann::json& j, const std::string& where);
};

// The modules LoRA can target in a Llama/Qwen2 layer, in layer order.
std::vector<std::string> lora_module_names();

}  // namespace steper
