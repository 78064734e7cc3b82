// One optimizer step's forward and backward (docs/DESIGN.md sections 1 and 10): the step's rows (examples,
// or packs of a trace's examples) as padded tensors, the model over them, and the objective's loss
// backpropagated. Included only by distill/ sources: it pulls in <torch/torch.h>.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "distill/data.h"
#include "distill/dist_env.h"
#include "distill/objective.h"
#include "distill/packing.h"
#include "model/llama.h"

namespace steper {

// The training data as steps read it: the tokenized examples and the rows they are computed in.
struct StepData {
  const std::vector<TokenizedExample>& examples;
  const std::vector<Pack>& packs;  // BatchPart::examples index these
};

// The micro-batches of one optimizer step that this worker computes, and what the whole step (every
// worker's micro-batches) holds in total.
struct StepBatches {
  std::vector<BatchPart> parts;  // one padded rectangle per forward pass (copies: the stream replans epochs)
  StepTotals totals;
  int64_t epoch = 0, tokens = 0, target_tokens = 0, padded_tokens = 0, examples = 0;
};
// Adds one micro-batch (of `data.packs`) to a step: to its totals, and to its parts when `mine`.
void add_batch(StepBatches& step, const Batch& batch, const StepData& data, bool mine = true);
// Optimizer step `step` (1-based). All workers read the one global order of micro-batches a single process
// reads (docs/DESIGN.md section 8): step s, accumulation slot a, rank r computes micro-batch
// ((s-1) * grad_accum + a) * world + r; the totals count the whole step.
StepBatches get_batches(BatchStream& stream, const StepData& data, int64_t step, int grad_accum,
                        const DistEnv& dist = DistEnv{});

struct StepLoss {
  double loss = 0;
  std::array<double, 3> task_loss{};  // NaN for tasks absent from the step
};

// Forward and backward over the step's micro-batches; gradients accumulate into the model's parameters
// and log_var (zero them first). sigma's prior term is added when `add_prior` (once per step over all
// workers: rank 0). A part whose rows are all single examples runs the plain causal forward;
// one with packs the packed forward (explicit positions and visibility).
StepLoss forward_backward(Llama& model, const torch::Tensor& log_var, Objective objective, const StepData& data,
                          const StepBatches& batches, torch::Device device, bool autocast, bool add_prior = true);

}  // namespace steper
