// A model folder as a text generator, without exposing libtorch to the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/generator.h"
#include "text/tokenizer.h"

namespace steper {

class DecodeEngine;

struct TokenGenerateOptions {
  int max_tokens = 64;  // new tokens at most; never more than the context (max_position_embeddings) leaves
  float temperature = 0.0f;  // 0 = greedy
  float top_p = 1.0f;
  uint64_t seed = 0;
  bool use_cache = true;     // false recomputes the whole sequence each token (for tests and benchmarks)
  std::vector<std::string> stop;  // checked on the decoded continuation
  bool stop_at_eos = true;
};

class LanguageModel : public TextGenerator {
 public:
  // device: "cpu", "cuda", "cuda:0". Throws Error naming the folder/file on bad input.
  // adapter: a LoRA adapter folder (PEFT's layout) trained on this base, merged into it at load; "" = none.
  static std::unique_ptr<LanguageModel> load(const std::string& dir, const std::string& device = "cpu",
                                             const std::string& adapter = "");
  ~LanguageModel() override;

  // Generation stops at max_tokens or when prompt and continuation fill the model's context
  // (max_position_embeddings), whichever comes first; a prompt that fills the context throws Error.
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override;
  std::string name() const override;
  // The context in tokens (config.json max_position_embeddings as loaded): prompt and continuation together.
  int64_t context() const;
  int64_t context_tokens() const override { return context(); }
  int64_t prompt_tokens(const std::string& prompt) const override;  // as generate encodes it
  // Batched token-level generation: the new ids for each prompt.
  std::vector<std::vector<int32_t>> generate_ids(const std::vector<std::vector<int32_t>>& prompts,
                                                 const TokenGenerateOptions& opts);
  const Tokenizer& tokenizer() const;
  // Next-token logits for one prompt (for parity checks): [vocab] floats.
  std::vector<float> next_token_logits(const std::vector<int32_t>& ids);
  // Prefix reuse in generate (on by default): requests with a cache_key keep their prompt's key/value
  // cache (at most max_tokens prompt tokens in all) and later prompts compute only what follows their
  // longest token prefix shared with a kept one. Off drops everything kept.
  void set_prefix_reuse(bool on, size_t max_tokens = 65536);
  void release(const std::string& cache_key) override;
  DecodeEngine& engine();  // the one behind generate / generate_ids (stats, prefix reuse)

  struct Impl;
  Impl& impl() { return *impl_; }  // for model/ sources (model_impl.h)
 private:
  explicit LanguageModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `steper init`: a from-scratch model folder: BPE tokenizer trained on the texts, a small Llama config
// ("tiny" or "small"), random weights.
void init_model_folder(const std::vector<std::string>& texts, const std::string& dir, const std::string& size,
                       uint64_t seed, int vocab_size = 4096);

// libtorch's intra-op thread count (BLAS threads follow OPENBLAS_NUM_THREADS). One is fastest for these
// small models on two cores with two BLAS threads.
void torch_threads_set(int n);
// OpenBLAS's own thread count, process-wide (torch::set_num_threads does not govern it); requested <= 0
// means OPENBLAS_NUM_THREADS, else the cores (at most 8). Returns the count set.
int blas_threads_set(int requested);
// OpenBLAS's thread count now; 0 when the BLAS is not OpenBLAS.
int blas_threads_get();

}  // namespace steper
