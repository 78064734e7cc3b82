// The decoder's inference path (fused q/k/v and gate/up weights kept between calls, one-row products as
// matrix-vector products) against its training path, which llama_test.cpp holds to an independent
// reference; and the fused weights following a change of the weights.
#include <gtest/gtest.h>

#include "model/llama.h"

namespace steper {
namespace {

Llama random_model(bool qwen) {
  LlamaConfig c;
  if (qwen) {
    c.architecture = "Qwen2ForCausalLM";
    c.model_type = "qwen2";
    c.attention_bias = true;
  }
  c.vocab_size = 41;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.rope_theta = 500.0;
  Llama m(c);
  torch::manual_seed(11);
  torch::NoGradGuard g;
  for (auto& [name, p] : m->hf_named_parameters())
    p.copy_(name.find("norm") != std::string::npos ? 1.0 + 0.3 * torch::randn_like(p) : 0.3 * torch::randn_like(p));
  return m;
}

// Prompt, then two tokens one at a time through the cache: every row count the decoder sees.
torch::Tensor decode_hidden(Llama& m) {
  torch::Tensor prompt = torch::tensor({3, 17, 5, 29, 8}, torch::kLong).unsqueeze(0);
  KVCache cache;
  std::vector<torch::Tensor> out = {m->forward_hidden(prompt, &cache)};
  for (int64_t t : {11, 2}) out.push_back(m->forward_hidden(torch::tensor({t}, torch::kLong).unsqueeze(0), &cache));
  return torch::cat(out, 1).detach().clone();
}

torch::Tensor inference_hidden(Llama& m) {
  torch::InferenceMode guard;
  return decode_hidden(m).clone();
}

TEST(LlamaInference, FusedWeightsAndOneRowProductsEqualTheTrainingPath) {
  for (bool qwen : {false, true}) {
    Llama m = random_model(qwen);
    torch::Tensor trained = decode_hidden(m);  // gradients on: weights concatenated per call, GEMM
    torch::Tensor fast = inference_hidden(m);
    EXPECT_TRUE(torch::allclose(fast, trained, 1e-5, 1e-5)) << (qwen ? "qwen2" : "llama") << " max diff "
                                                            << (fast - trained).abs().max().item<double>();
  }
}

TEST(LlamaInference, FusedWeightsFollowAChangedWeight) {
  Llama m = random_model(true);
  torch::Tensor before = inference_hidden(m);
  {
    torch::NoGradGuard g;
    for (auto& [name, p] : m->hf_named_parameters())
      if (name.find("layers.1.self_attn.k_proj") != std::string::npos || name.find("layers.0.mlp.up_proj") != std::string::npos)
        p.mul_(1.7);
  }
  torch::Tensor after = inference_hidden(m);
  torch::Tensor trained = decode_hidden(m);
  EXPECT_FALSE(torch::allclose(after, before, 1e-3, 1e-3));
  EXPECT_TRUE(torch::allclose(after, trained, 1e-5, 1e-5)) << (after - trained).abs().max().item<double>();
}

}  // namespace
}  // namespace steper
