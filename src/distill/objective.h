// The training objectives (docs/DESIGN.md section 1): StepER with difficulty-aware task weights, StepER with
// uniform weights, and vanilla KD. Included only by distill/ sources: it pulls in <torch/torch.h>.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>

namespace steper {

// kLm: language modelling on whole agg examples (every token scored, the prompt's passages included):
// how the demo pretrains its base student on another world, as real students are pretrained LMs.
// kBalanced and kTied take StepER's weighting apart (docs/DESIGN.md section 1): kBalanced weights each task's
// token mean equally and fixed (StepER with every sigma held at 1), kTied learns one sigma shared by the three
// tasks (StepER's overall scale, no relative weights).
enum class Objective { kSteper, kUniform, kVanilla, kLm, kBalanced, kTied };
// "steper" | "uniform" | "vanilla" | "lm" | "balanced" | "tied"; anything else throws Error naming --objective.
Objective objective_from_name(const std::string& name);
const char* objective_name(Objective objective);
// Vanilla KD trains on agg examples only (filtered when the data is loaded).
inline bool objective_agg_only(Objective objective) {
  return objective == Objective::kVanilla || objective == Objective::kLm;
}

// The objectives whose sigma is trained (the others leave it at 1).
inline bool objective_learns_sigma(Objective objective) {
  return objective == Objective::kSteper || objective == Objective::kTied;
}

constexpr int kNumTasks = 3;  // init, exp, agg (the order of Task)

// ---- token losses ----------------------------------------------------------------------------------

// Cross-entropy of each scored token: logits [N, V] (any float dtype, computed in fp32), labels [N] -> [N].
torch::Tensor token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels);

// What one optimizer step scores, summed over its micro-batches (gradient accumulation): the objective
// of a step is the same whether its examples come in one batch or in several.
struct StepTotals {
  std::array<int64_t, kNumTasks> target_tokens{};  // scored tokens of each task
  int64_t examples = 0;                            // examples with at least one scored token
  bool has_task(int j) const { return target_tokens[static_cast<size_t>(j)] > 0; }
};

// The scored tokens of one micro-batch, flattened, with the weights that turn a sum into the means the
// objective needs. Build with objective_targets().
struct ObjectiveTargets {
  torch::Tensor task;            // [N] int64: 0 init, 1 exp, 2 agg
  torch::Tensor task_weight;     // [N] float: 1 / (scored tokens of this token's task in the whole step)
  torch::Tensor example_weight;  // [N] float: 1 / (examples in the step * scored tokens of this token's example)
};
// task_of_token[i] and example_len_of_token[i] (scored tokens of the example token i belongs to).
ObjectiveTargets objective_targets(const std::vector<int64_t>& task_of_token,
                                   const std::vector<int64_t>& example_len_of_token, const StepTotals& totals,
                                   torch::Device device = torch::kCPU);

// ---- the objective ---------------------------------------------------------------------------------

// s_j = log sigma_j^2 for j in {init, exp, agg}, starting at 0 (sigma = 1). Never weight-decayed.
class TaskWeightingImpl : public torch::nn::Module {
 public:
  TaskWeightingImpl();
  torch::Tensor log_var;  // [3]
  std::array<double, kNumTasks> sigma() const;  // sqrt(exp(s_j))
};
TORCH_MODULE(TaskWeighting);

struct ObjectiveLoss {
  torch::Tensor loss;       // scalar to backpropagate (this micro-batch's share of the step's objective)
  torch::Tensor task_loss;  // [3] detached: this micro-batch's share of L_j (token mean over the step)
};

// steper:  L = sum_j 0.5 exp(-s_j) L_j + 0.5 s_j over the tasks present in the step (the 0.5 s_j terms are
//          added when add_prior is set: once per step, on its first micro-batch);
// tied:     the same with every s_j replaced by their mean (they start equal and get equal gradients, so
//          they stay equal: one learned scale);
// balanced: sum_j 0.5 L_j (steper with s fixed at 0);
// uniform, vanilla: the mean over the step's examples of each example's token-mean cross-entropy.
// L_j is the mean cross-entropy over the scored tokens of task j in the step.
ObjectiveLoss objective_loss(Objective objective, const torch::Tensor& token_ce, const ObjectiveTargets& targets,
                             const StepTotals& totals, const torch::Tensor& log_var, bool add_prior);

}  // namespace steper
