// steper merge-lora: a base model folder and a LoRA adapter (PEFT's layout) merged into one model folder.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "model/lora_merge.h"

namespace steper {
namespace {

CommandRegistrar reg({"merge-lora", "merge a LoRA adapter (PEFT layout) into its base: one model folder", [](CLI::App* sub) {
  auto base = std::make_shared<std::string>();
  auto adapter = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  sub->add_option("--model", *base, "the base model folder the adapter was trained on")->required();
  sub->add_option("--adapter", *adapter, "adapter folder (adapter_config.json, adapter_model.safetensors)")->required();
  sub->add_option("--out", *out, "the merged model folder to write")->required();
  return std::function<int()>([=] {
    merge_lora_folder(*base, *adapter, *out);
    std::fprintf(stderr, "merge-lora: %s + %s -> %s\n", base->c_str(), adapter->c_str(), out->c_str());
    return 0;
  });
}});

}  // namespace
}  // namespace steper
