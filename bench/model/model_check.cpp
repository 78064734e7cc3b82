// Parity check against transformers (driven by scripts/cuda_check.py): loads a model folder on a device,
// writes the logits of every prompt position, the last-position logits of the left-padded batch, and greedy
// continuations decoded batched with the KV cache.
//
//   model_check MODEL_DIR PROMPTS_JSON OUT_JSON [DEVICE=cpu] [NEW_TOKENS=8]
// PROMPTS_JSON: [[ids...], ...]. Needs only libtorch, nlohmann-json and steper's core/model sources.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/llama.h"

namespace {

std::vector<float> to_floats(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

int run(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: model_check MODEL_DIR PROMPTS_JSON OUT_JSON [DEVICE] [NEW_TOKENS]\n");
    return 2;
  }
  const std::string dir = argv[1], prompts_path = argv[2], out_path = argv[3];
  const std::string device_name = argc > 4 ? argv[4] : "cpu";
  const int new_tokens = argc > 5 ? std::stoi(argv[5]) : 8;
  torch::Device device(device_name);
  std::ifstream in(prompts_path);
  nlohmann::json prompts = nlohmann::json::parse(in);

  steper::Llama model = steper::llama_load(dir, device);
  model->eval();
  torch::InferenceMode guard;
  nlohmann::json out;
  out["device"] = device.str();

  // 1. Full-sequence logits, one prompt at a time.
  for (const auto& p : prompts) {
    std::vector<int64_t> ids = p.get<std::vector<int64_t>>();
    torch::Tensor t = torch::tensor(ids, torch::kLong).unsqueeze(0).to(device);
    out["logits"].push_back(to_floats(model->forward(t)[0]));
  }

  // 2. The batch, left-padded, with key_valid; then greedy decoding with the cache.
  const int64_t B = static_cast<int64_t>(prompts.size());
  int64_t Tmax = 0;
  for (const auto& p : prompts) Tmax = std::max<int64_t>(Tmax, static_cast<int64_t>(p.size()));
  torch::Tensor ids = torch::zeros({B, Tmax}, torch::kLong);
  torch::Tensor valid = torch::zeros({B, Tmax}, torch::kBool);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = static_cast<int64_t>(prompts[b].size()), pad = Tmax - n;
    for (int64_t t = 0; t < n; ++t) ids[b][pad + t] = prompts[b][t].get<int64_t>();
    valid[b].narrow(0, pad, n).fill_(true);
  }
  ids = ids.to(device);
  valid = valid.to(device);
  steper::KVCache cache;
  torch::Tensor logits = model->logits(model->forward_hidden(ids, &cache, valid).select(1, -1));  // [B, V]
  for (int64_t b = 0; b < B; ++b) out["batched_last_logits"].push_back(to_floats(logits[b]));
  std::vector<std::vector<int64_t>> greedy(B);
  for (int i = 0; i < new_tokens; ++i) {
    torch::Tensor next = logits.argmax(-1);  // [B]
    std::vector<float> n = to_floats(next.to(torch::kFloat));
    for (int64_t b = 0; b < B; ++b) greedy[b].push_back(static_cast<int64_t>(n[b]));
    valid = torch::cat({valid, torch::ones({B, 1}, valid.options())}, 1);
    logits = model->logits(model->forward_hidden(next.unsqueeze(1), &cache, valid).select(1, -1));
  }
  out["greedy"] = greedy;
  std::ofstream(out_path) << out.dump();
  std::printf("model_check: %s on %s: %lld prompts, %d greedy tokens each\n", dir.c_str(), device.str().c_str(),
              static_cast<long long>(B), new_tokens);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const steper::Error& e) {
    std::fprintf(stderr, "model_check: error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "model_check: error: %s\n", e.what());
  }
  return 1;
}
