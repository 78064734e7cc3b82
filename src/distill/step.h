// One optimizer step's forward and backward (docs/DESIGN.md sections 1 and 9): the step's rows (examples,
// or packs of a trace's examples) as padded tensors, the model over them, and the objective's loss
// backpropagated. Included only by distill/ sources: it pulls in <torch/torch.h>.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "distill/data.h"
#include "distill/objective.h"
#include "distill/packing.h"
#include "model/llama.h"

namespace steper {

// The training data as steps read it: the tokenized examples and the rows they are computed in.
struct StepData {
  const std::vector<TokenizedExample>& examples;
  const std::vector<Pack>& packs;  // BatchPart::examples index these
};

// The micro-batches of one optimizer step and what they hold in total.
struct StepBatches {
  std::vector<const BatchPart*> parts;  // one padded rectangle per forward pass
  StepTotals totals;
  int64_t epoch = 0, tokens = 0, target_tokens = 0, padded_tokens = 0, examples = 0;
};
// Adds one micro-batch (of `data.packs`) to a step.
void add_batch(StepBatches& step, const Batch& batch, const StepData& data);
// Optimizer step `step` (1-based): micro-batches (step-1)*grad_accum .. step*grad_accum-1 of the stream.
StepBatches get_batches(BatchStream& stream, const StepData& data, int64_t step, int grad_accum);

struct StepLoss {
  double loss = 0;
  std::array<double, 3> task_loss{};  // NaN for tasks absent from the step
};

// Forward and backward over the step's micro-batches; gradients accumulate into the model's parameters
// and log_var (zero them first). A part whose rows are all single examples runs the plain causal forward;
// one with packs the packed forward (explicit positions and visibility).
StepLoss forward_backward(Llama& model, const torch::Tensor& log_var, Objective objective, const StepData& data,
                          const StepBatches& batches, torch::Device device, bool autocast);

}  // namespace steper
