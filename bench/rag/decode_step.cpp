// The decoding step bench_rag's batches take: a from-scratch tiny model, B rows left-padded over a cache of
// T columns (row b padded by (37 b) mod T/2), then 31 tokens a row one step at a time (logits and argmax
// included), repeated from the same cache; prints the fastest and the median repetition's time per step.
//
// usage: decode_step [B=16] [T=400] [REPS=30]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cli/blas_kernels.h"
#include "model/llama.h"
#include "model/llama_sizes.h"
#include "model/model.h"

int main(int argc, char** argv) {
  using namespace steper;
  blas_reexec_if_generic(argv);  // the kernels steper runs with
  const int B = argc > 1 ? std::atoi(argv[1]) : 16, T = argc > 2 ? std::atoi(argv[2]) : 400;
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 30;
  if (B < 1 || T < 2) {
    std::fprintf(stderr, "decode_step: B must be at least 1 and T at least 2\n");
    return 1;
  }
  blas_threads_set(1);  // as the decode engine's steps run
  LlamaConfig cfg = llama_config_for_size("tiny");
  cfg.vocab_size = 4096;
  torch::manual_seed(1);
  Llama model(cfg);
  torch::InferenceMode guard;
  KVCache cache;
  torch::Tensor valid0 = torch::ones({B, T}, torch::kBool);
  for (int b = 0; b < B; ++b) valid0[b].narrow(0, 0, (b * 37) % (T / 2)).fill_(false);
  model->forward_hidden(torch::randint(0, 4096, {B, T}, torch::kLong), &cache, valid0);
  std::vector<double> per_step;
  for (int rep = 0; rep < reps; ++rep) {
    cache.length = T;  // the same cache again: the steps overwrite its later columns in place
    torch::Tensor valid = valid0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 31; ++i) {
      valid = torch::cat({valid, torch::ones({B, 1}, valid.options())}, 1);
      torch::Tensor h = model->forward_hidden(torch::randint(0, 4096, {B, 1}, torch::kLong), &cache, valid);
      model->logits(h.select(1, -1)).argmax(-1);
    }
    per_step.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 31);
  }
  std::sort(per_step.begin(), per_step.end());
  std::printf("batch %d, cache %d: %.3f ms/step fastest, %.3f median\n", B, T, 1e3 * per_step[0],
              1e3 * per_step[per_step.size() / 2]);
  return 0;
}
