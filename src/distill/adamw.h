// The trainer's optimizer: AdamW with weight decay on the decayed group only (the trainer puts matrices
// there; norms and biases go undecayed, and a learned sigma into a third, undecayed group of its own whose
// learning rate may be scaled: --sigma-lr-scale), header-only so that the libtorch-only parity check
// (bench/model/train_check) builds the very same optimizer.
#pragma once

#include <memory>
#include <vector>

#include <torch/torch.h>

namespace steper {

struct AdamWSettings {
  double lr, beta1, beta2, eps, weight_decay;
};

inline std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<torch::Tensor>& decay,
                                                       const std::vector<torch::Tensor>& no_decay,
                                                       const AdamWSettings& s,
                                                       const std::vector<torch::Tensor>& sigma = {}) {
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(s.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  if (!sigma.empty()) groups.emplace_back(sigma, options(0.0));
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(s.lr));
}

// Matrices (two or more dimensions) are decayed, the rest not.
inline void split_decay(const std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& decay,
                        std::vector<torch::Tensor>& no_decay) {
  for (const auto& p : params) (p.dim() >= 2 ? decay : no_decay).push_back(p);
}

}  // namespace steper
