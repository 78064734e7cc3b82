// Gradient checkpointing (docs/DESIGN.md section 8): run a function without keeping its activations, and
// run it again inside the backward pass to get its gradients, as torch.utils.checkpoint does (the
// reentrant form). The CPU generator's state is restored for the rerun, so dropout draws the same mask.
// Included by model/ sources only: it pulls in libtorch.
#pragma once

#include <torch/torch.h>

#include <functional>

namespace steper {

// f(x) with the same value and the same gradients (for x and for every tensor f reads that requires
// grad, accumulated into their .grad) as calling f directly, keeping only x for the backward pass.
// Outside grad mode it is f(x).
torch::Tensor recompute_in_backward(const std::function<torch::Tensor(const torch::Tensor&)>& f, const torch::Tensor& x);

}  // namespace steper
