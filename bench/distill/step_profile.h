// Where a training step's time goes: libtorch's profiler over the steps between start and stop, each op's
// own time (its children's taken out) summed into a few categories: attention (bmm, softmax, and the
// whole of the packed forward's masked attention), the linear layers' matrix products, elementwise and
// other tensor work of the forward and backward passes, the optimizer, gradient clipping and checks.
// Torch-free header.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace steper_bench {

void profile_start();  // on this thread (the trainer's)
// (category, seconds) in a fixed order; the last, "outside the step", is what no step range held.
// ops: when given, filled with each op's own seconds (named ranges included), largest first.
std::vector<std::pair<std::string, double>> profile_stop(std::vector<std::pair<std::string, double>>* ops = nullptr);

}  // namespace steper_bench
