// `steper merge-lora`: a base model folder plus a LoRA adapter folder (model/lora.h) written as one
// merged model folder, W' = W + scale * B A. Torch-free: the CLI includes it.
#pragma once

#include <string>

namespace steper {

// Throws Error naming the folder or file when the adapter does not fit the base.
void merge_lora_folder(const std::string& base_dir, const std::string& adapter_dir, const std::string& out_dir);

}  // namespace steper
