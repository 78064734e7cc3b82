// Model benchmarks: training-step throughput, matmul efficiency, decoding with and without the KV cache,
// and peak memory when loading a checkpoint. Run through bench/model/run.sh, which also runs the same
// model in plain PyTorch (torch_ref.py) with the same thread settings.
//
//   model_bench train [tiny|small] [batch] [seq] [steps]   -> one JSON line
//   model_bench mm [tokens]                                  -> torch::mm GFLOP/s at the step's shapes
//   model_bench decode [tiny|small]                          -> decoding tokens/s
//   model_bench save DIR [tiny|small]                        -> writes a random model folder
//   model_bench load DIR                                     -> peak RSS while loading vs weight bytes
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "model/llama.h"
#include "model/llama_sizes.h"

#include <torch/csrc/autograd/profiler_legacy.h>

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The benchmark's models: `steper init`'s sizes ("small", anything else "tiny") with a 4,096-token vocabulary.
steper::LlamaConfig bench_config(const std::string& size) {
  steper::LlamaConfig c = steper::llama_config_for_size(size == "small" ? "small" : "tiny");
  c.vocab_size = 4096;
  return c;
}

// Matmul FLOPs of one forward pass over B sequences of T tokens with logits at `scored` positions each.
// Attention is counted as the full T x T square (the blocked causal attention does less: the GFLOP/s
// figure is a dense-equivalent rate, comparable with torch::mm's).
double forward_flops(const steper::LlamaConfig& c, int64_t B, int64_t T, int64_t scored) {
  const double D = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const double I = c.intermediate_size, tokens = static_cast<double>(B * T);
  double per_token = 2 * D * (H * hd + 2 * KV * hd) + 2 * H * hd * D + 2 * 3 * D * I;
  double attention = 2 * 2 * B * H * hd * static_cast<double>(T) * T;  // QK^T and PV (full square)
  return c.num_hidden_layers * (per_token * tokens + attention) + 2 * D * c.vocab_size * B * scored;
}

int bench_train(const std::string& size, int64_t B, int64_t T, int steps) {
  steper::LlamaConfig cfg = bench_config(size);
  torch::manual_seed(0);
  steper::Llama model(cfg);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.0));
  const int64_t scored = std::max<int64_t>(1, T / 8);  // logits only at target positions, like the trainer
  torch::Tensor ids = torch::randint(0, cfg.vocab_size, {B, T + 1}, torch::kLong);
  torch::Tensor input = ids.narrow(1, 0, T), target = ids.narrow(1, T + 1 - scored, scored).reshape({-1});
  auto step = [&] {
    torch::Tensor hidden = model->forward_hidden(input);
    torch::Tensor logits = model->logits(hidden.narrow(1, T - scored, scored)).reshape({-1, cfg.vocab_size});
    torch::Tensor loss = torch::cross_entropy_loss(logits, target);
    opt.zero_grad();
    loss.backward();
    opt.step();
    return loss.item<double>();
  };
  for (int i = 0; i < 2; ++i) step();  // warm-up
  if (std::getenv("PROFILE")) {  // a chrome://tracing file of two steps, for finding where time goes
    torch::autograd::profiler::RecordProfile guard(std::getenv("PROFILE"));
    for (int i = 0; i < 2; ++i) step();
  }
  auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i) step();
  double s = seconds_since(t0);
  double tokens_per_s = static_cast<double>(B * T * steps) / s;
  double gflops = 3 * forward_flops(cfg, B, T, scored) * steps / s / 1e9;  // backward ~ 2x forward
  int64_t params = 0;
  for (auto& p : model->parameters()) params += p.numel();
  nlohmann::json out = {{"impl", "steper"}, {"size", size}, {"batch", B}, {"seq", T}, {"steps", steps},
                        {"params", params}, {"tokens_per_s", tokens_per_s}, {"gflops", gflops},
                        {"step_ms", 1000 * s / steps}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int bench_mm(int64_t tokens) {
  // The shapes of a tiny and a small training step's largest products.
  nlohmann::json out = {{"impl", "torch::mm"}};
  for (auto [m, k, n] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {tokens, 128, 256}, {tokens, 128, 768}, {tokens, 384, 128}, {tokens, 256, 512}, {tokens, 256, 1536},
           {tokens, 768, 256}}) {
    torch::Tensor a = torch::randn({m, k}), b = torch::randn({k, n});
    for (int i = 0; i < 3; ++i) torch::mm(a, b);
    int reps = 0;
    auto t0 = Clock::now();
    while (seconds_since(t0) < 0.5) {
      torch::mm(a, b);
      ++reps;
    }
    double gflops = 2.0 * m * k * n * reps / seconds_since(t0) / 1e9;
    out[std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n)] = gflops;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int bench_decode(const std::string& size) {
  steper::LlamaConfig cfg = bench_config(size);
  torch::manual_seed(0);
  steper::Llama model(cfg);
  torch::InferenceMode guard;
  const int64_t prompt_len = 200, new_tokens = 32;
  nlohmann::json out = {{"impl", "steper"}, {"size", size}, {"prompt", prompt_len}, {"new_tokens", new_tokens}};
  for (int64_t B : {1, 8}) {
    torch::Tensor prompt = torch::randint(0, cfg.vocab_size, {B, prompt_len}, torch::kLong);
    for (bool cached : {true, false}) {
      auto t0 = Clock::now();
      steper::KVCache cache;
      torch::Tensor seq = prompt;
      torch::Tensor logits = model->logits(model->forward_hidden(prompt, cached ? &cache : nullptr).select(1, -1));
      for (int64_t i = 0; i < new_tokens; ++i) {
        torch::Tensor next = logits.argmax(-1).unsqueeze(1);
        if (cached) {
          logits = model->logits(model->forward_hidden(next, &cache).select(1, -1));
        } else {
          seq = torch::cat({seq, next}, 1);
          logits = model->logits(model->forward_hidden(seq).select(1, -1));
        }
      }
      double s = seconds_since(t0);
      out[std::string(cached ? "cached" : "uncached") + "_b" + std::to_string(B) + "_tokens_per_s"] =
          static_cast<double>(B * new_tokens) / s;
    }
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

long peak_rss_kb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(std::getenv("TORCH_THREADS") ? std::atoi(std::getenv("TORCH_THREADS")) : 1);
  std::string mode = argc > 1 ? argv[1] : "train";
  auto arg = [&](int i, const char* fallback) { return std::string(argc > i ? argv[i] : fallback); };
  if (mode == "train") return bench_train(arg(2, "tiny"), std::stoll(arg(3, "8")), std::stoll(arg(4, "256")),
                                          std::stoi(arg(5, "10")));
  if (mode == "mm") return bench_mm(std::stoll(arg(2, "2048")));
  if (mode == "decode") return bench_decode(arg(2, "tiny"));
  if (mode == "save") {
    steper::Llama model(bench_config(arg(3, "small")));
    steper::llama_save(model, arg(2, "/tmp/steper_bench_model"), "");
    return 0;
  }
  if (mode == "load") {
    long before = peak_rss_kb();
    auto t0 = Clock::now();
    steper::Llama model = steper::llama_load(arg(2, "/tmp/steper_bench_model"));
    double s = seconds_since(t0);
    int64_t bytes = 0;
    for (auto& p : model->parameters()) bytes += p.numel() * 4;
    nlohmann::json out = {{"weight_bytes", bytes},
                          {"file_bytes", std::filesystem::file_size(arg(2, "/tmp/steper_bench_model") +
                                                                    "/model.safetensors")},
                          {"rss_before_kb", before},
                          {"peak_rss_kb", peak_rss_kb()},
                          {"peak_minus_before_over_weights",
                           (peak_rss_kb() - before) * 1024.0 / static_cast<double>(bytes)},
                          {"load_s", s}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
