// Gradient checkpointing: the same value and the same gradients as the direct computation.
#include "model/recompute.h"

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

}  // namespace
}  // namespace steper
