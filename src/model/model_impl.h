// What a loaded model folder holds, shared by model.cpp and decode_engine.cpp (pulls in <torch/torch.h>).
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "model/decode_engine.h"
#include "model/llama.h"
#include "model/model.h"

namespace steper {

struct LanguageModel::Impl {
  std::string dir;
  torch::Device device = torch::kCPU;
  Llama model{nullptr};
  Tokenizer tokenizer;
  std::set<int64_t> eos_ids;
  int64_t pad_id = 0;
  std::unique_ptr<DecodeEngine> engine;  // behind generate / generate_ids
  std::mutex engine_mu;                  // one generate / generate_ids call steps the engine at a time
};

// Throws Error (naming the model folder) for an empty prompt, a token outside the vocabulary, or a prompt
// that leaves no room in the context while max_tokens > 0. Returns the new tokens the prompt may take:
// max_tokens capped by the context.
int64_t prompt_check(const LanguageModel::Impl& m, const std::vector<int32_t>& prompt, int max_tokens);

// The reference decoder: each prompt alone, the whole sequence recomputed for every token (no cache).
std::vector<DecodeResult> decode_recompute(LanguageModel::Impl& m, const std::vector<std::vector<int32_t>>& prompts,
                                           const TokenGenerateOptions& opts);

}  // namespace steper
