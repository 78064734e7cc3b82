// Decoding speed of steper (libtorch, KV cache) on a model folder, for batch sizes given on the command line.
// Decoding rate = batch * new_tokens / (time(prompt + 1 + new_tokens) - time(prompt + 1)), so the prompt
// (prefill) is not counted. One JSON object a line on stdout.
//
// Usage: gguf_steper_decode_bench MODEL_DIR NEW_TOKENS BATCH [BATCH...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/blas_kernels.h"
#include "core/error.h"
#include "model/model.h"

namespace {

const char* kPrompt = "Orlen Vask was born in Kestrin Valley in 1959. She worked as a novelist and";

double time_generate(steper::LanguageModel& lm, const std::vector<std::vector<int32_t>>& prompts, int max_tokens) {
  steper::TokenGenerateOptions o;
  o.max_tokens = max_tokens;
  o.temperature = 0.0f;
  o.stop_at_eos = false;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> out = lm.generate_ids(prompts, o);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& ids : out)
    if (static_cast<int>(ids.size()) != max_tokens) throw steper::Error("generate_ids stopped early");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL_DIR NEW_TOKENS BATCH [BATCH...]\n", argv[0]);
    return 2;
  }
  steper::blas_reexec_if_generic(argv);
  try {
    auto lm = steper::LanguageModel::load(argv[1]);
    const int n_new = std::atoi(argv[2]);
    std::vector<int32_t> prompt = lm->tokenizer().encode(kPrompt, true);
    time_generate(*lm, {prompt}, 4);  // warm-up
    for (int a = 3; a < argc; ++a) {
      const int batch = std::atoi(argv[a]);
      std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(batch), prompt);
      double best = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        double t_first = time_generate(*lm, prompts, 1);
        double t_all = time_generate(*lm, prompts, 1 + n_new);
        if (t_all - t_first < best) best = t_all - t_first;
      }
      std::printf("{\"engine\": \"steper\", \"batch\": %d, \"new_tokens\": %d, \"prompt_tokens\": %zu, "
                  "\"decode_seconds\": %.4f, \"tokens_per_s\": %.1f}\n",
                  batch, n_new, prompt.size(), best, batch * n_new / best);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
