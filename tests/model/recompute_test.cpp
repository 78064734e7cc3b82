// Gradient checkpointing: the same value and the same gradients as the direct computation.
#include "model/recompute.h"

#include "common/toy_llama.h"
#include "model/llama.h"

#include <gtest/gtest.h>

namespace steper {
namespace {

struct TwoLayers {
  torch::Tensor w1 = torch::randn({16, 8}).requires_grad_(true), w2 = torch::randn({8, 16}).requires_grad_(true);
  torch::Tensor operator()(const torch::Tensor& x) const {
    return torch::linear(torch::dropout(torch::silu(torch::linear(x, w1)), 0.3, true), w2);
  }
  void zero() {
    w1.mutable_grad() = torch::Tensor();
    w2.mutable_grad() = torch::Tensor();
  }
};

TEST(Recompute, SameValueAndGradientsAsTheDirectComputation) {
  torch::manual_seed(0);
  TwoLayers f;
  torch::Tensor x0 = torch::randn({4, 8});
  auto run = [&](bool recompute) {
    f.zero();
    torch::Tensor x = x0.clone().requires_grad_(true);
    torch::manual_seed(7);  // the same dropout mask for both
    torch::Tensor h = recompute ? recompute_in_backward([&](const torch::Tensor& t) { return f(t); }, x) : f(x);
    torch::Tensor y = recompute ? recompute_in_backward([&](const torch::Tensor& t) { return f(t * 0.5); }, h)
                                : f(h * 0.5);
    y.pow(2).sum().backward();
    return std::vector<torch::Tensor>{y.detach(), x.grad(), f.w1.grad().clone(), f.w2.grad().clone()};
  };
  auto direct = run(false), again = run(true);
  const char* what[] = {"value", "input grad", "w1 grad", "w2 grad"};
  for (size_t i = 0; i < direct.size(); ++i) {
    ASSERT_TRUE(again[i].defined()) << what[i];
    EXPECT_TRUE(torch::allclose(direct[i], again[i], 1e-6, 1e-6)) << what[i];
  }
  EXPECT_GT(direct[2].abs().sum().item<float>(), 0.f);
}

TEST(Recompute, WeightsGetGradientsWhenTheInputNeedsNone) {
  torch::manual_seed(1);
  TwoLayers f;
  torch::Tensor x = torch::randn({2, 8});  // a frozen embedding's output
  recompute_in_backward([&](const torch::Tensor& t) { return f(t); }, x).sum().backward();
  ASSERT_TRUE(f.w1.grad().defined());
  EXPECT_GT(f.w1.grad().abs().sum().item<float>(), 0.f);
}

// Gradient checkpointing in the model: every parameter's gradient equals the plain backward pass, for the
// causal forward and the packed one, Llama and Qwen2 (biases) alike.
TEST(Recompute, LlamaGradientsWithAndWithoutCheckpointing) {
  for (bool qwen : {false, true}) {
    LlamaConfig c = toy_llama_config(qwen);
    c.num_hidden_layers = 3;
    torch::manual_seed(5);
    Llama m(c);
    torch::Tensor ids = torch::randint(0, c.vocab_size, {2, 7}, torch::kLong);
    torch::Tensor pos = torch::arange(7, torch::kLong).repeat({2, 1});
    torch::Tensor allowed = torch::ones({7, 7}, torch::kBool).tril().repeat({2, 1, 1});
    for (bool packed : {false, true}) {
      auto grads = [&](bool ckpt) {
        m->set_grad_checkpoint(ckpt);
        for (auto& [n, p] : m->hf_named_parameters()) p.mutable_grad() = torch::Tensor();
        torch::Tensor h = packed ? m->forward_hidden_packed(ids, pos, allowed) : m->forward_hidden(ids);
        m->logits(h).log_softmax(-1).select(-1, 3).sum().backward();
        std::vector<torch::Tensor> g;
        for (auto& [n, p] : m->hf_named_parameters()) g.push_back(p.grad().clone());
        return g;
      };
      auto plain = grads(false), again = grads(true);
      auto names = m->hf_named_parameters();
      for (size_t i = 0; i < plain.size(); ++i)
        EXPECT_TRUE(torch::allclose(plain[i], again[i], 1e-5, 1e-6))
            << names[i].first << (qwen ? " qwen2" : " llama") << (packed ? " packed" : "");
    }
  }
}

}  // namespace
}  // namespace steper
