#include "distill/objective.h"

#include <cmath>

#include "core/error.h"
#include "distill/train_config.h"

namespace steper {

Objective objective_from_name(const std::string& name) {
  objective_name_check(name, "--objective");
  if (name == "steper") return Objective::kSteper;
  if (name == "uniform") return Objective::kUniform;
  if (name == "vanilla") return Objective::kVanilla;
  if (name == "lm") return Objective::kLm;
  if (name == "balanced") return Objective::kBalanced;
  if (name == "tied") return Objective::kTied;
  throw BugError(__FILE__, __LINE__, "objective '" + name + "' is named but not mapped");
}

const char* objective_name(Objective objective) {
  switch (objective) {
    case Objective::kSteper: return "steper";
    case Objective::kUniform: return "uniform";
    case Objective::kVanilla: return "vanilla";
    case Objective::kLm: return "lm";
    case Objective::kBalanced: return "balanced";
    case Objective::kTied: return "tied";
  }
  return "?";
}

// ---- token losses ----------------------------------------------------------------------------------

torch::Tensor token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  namespace F = torch::nn::functional;
  return F::cross_entropy(logits.to(torch::kFloat), labels, F::CrossEntropyFuncOptions().reduction(torch::kNone));
}

ObjectiveTargets objective_targets(const std::vector<int64_t>& task_of_token,
                                   const std::vector<int64_t>& example_len_of_token, const StepTotals& totals,
                                   torch::Device device) {
  size_t n = task_of_token.size();
  TORCH_CHECK(example_len_of_token.size() == n, "objective_targets: length mismatch");
  std::vector<float> tw(n), ew(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t j = task_of_token[i];
    TORCH_CHECK(j >= 0 && j < kNumTasks, "objective_targets: bad task id");
    int64_t count = totals.target_tokens[static_cast<size_t>(j)];
    TORCH_CHECK(count > 0 && totals.examples > 0 && example_len_of_token[i] > 0,
                "objective_targets: totals do not cover the batch");
    tw[i] = static_cast<float>(1.0 / static_cast<double>(count));
    ew[i] = static_cast<float>(1.0 / (static_cast<double>(totals.examples) * static_cast<double>(example_len_of_token[i])));
  }
  auto n64 = static_cast<int64_t>(n);
  ObjectiveTargets t;
  t.task = torch::from_blob(const_cast<int64_t*>(task_of_token.data()), {n64}, torch::kLong).clone().to(device);
  t.task_weight = torch::from_blob(tw.data(), {n64}, torch::kFloat).clone().to(device);
  t.example_weight = torch::from_blob(ew.data(), {n64}, torch::kFloat).clone().to(device);
  return t;
}

// ---- the objective ---------------------------------------------------------------------------------

TaskWeightingImpl::TaskWeightingImpl() { log_var = register_parameter("log_var", torch::zeros({kNumTasks})); }

std::array<double, kNumTasks> TaskWeightingImpl::sigma() const {
  auto s = log_var.detach().to(torch::kCPU, torch::kDouble);
  std::array<double, kNumTasks> out{};
  for (int j = 0; j < kNumTasks; ++j) out[static_cast<size_t>(j)] = std::sqrt(std::exp(s[j].item<double>()));
  return out;
}

ObjectiveLoss objective_loss(Objective objective, const torch::Tensor& token_ce, const ObjectiveTargets& targets,
                             const StepTotals& totals, const torch::Tensor& log_var, bool add_prior) {
  ObjectiveLoss out;
  // this micro-batch's share of each task's token mean: sum over its tokens of ce / count_j
  torch::Tensor task_part =
      torch::zeros({kNumTasks}, token_ce.options()).index_add(0, targets.task, token_ce * targets.task_weight);
  out.task_loss = task_part.detach();
  if (objective == Objective::kBalanced) {
    out.loss = 0.5 * task_part.sum();
  } else if (objective_learns_sigma(objective)) {
    torch::Tensor s = log_var.to(token_ce.device(), torch::kFloat);
    if (objective == Objective::kTied) s = s.mean().expand({kNumTasks});
    out.loss = (0.5 * torch::exp(-s) * task_part).sum();
    if (add_prior) {
      std::vector<float> present(kNumTasks);
      for (int j = 0; j < kNumTasks; ++j) present[static_cast<size_t>(j)] = totals.has_task(j) ? 1.0f : 0.0f;
      torch::Tensor mask = torch::tensor(present, token_ce.options());
      out.loss = out.loss + (0.5 * s * mask).sum();
    }
  } else {
    out.loss = (token_ce * targets.example_weight).sum();
  }
  return out;
}

}  // namespace steper
