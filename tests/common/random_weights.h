// Random weights for a test model (libtorch: only for tests that include model/llama.h anyway).
#pragma once

#include <cstdint>
#include <string>

#include "model/llama.h"

namespace steper {

// Every weight drawn from N(0, scale^2) and every norm from 1 + N(0, scale^2), seeded: large enough
// that attention is far from uniform.
inline void randomize_weights(Llama& m, uint64_t seed, double scale = 0.3) {
  torch::manual_seed(seed);
  torch::NoGradGuard g;
  for (auto& [name, p] : m->hf_named_parameters())
    p.copy_(name.find("norm") != std::string::npos ? 1.0 + scale * torch::randn_like(p) : scale * torch::randn_like(p));
}

}  // namespace steper
