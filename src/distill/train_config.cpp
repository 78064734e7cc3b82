#include "distill/train_config.h"

#include "core/trace_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"

namespace steper {

namespace {

std::string show(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void require(bool ok, const std::string& what, const std::string& got) {
  if (!ok) throw Error(what + ", got " + got);
}
void require_finite_positive(double v, const char* name) {
  require(std::isfinite(v) && v > 0, std::string(name) + " must be finite and positive", show(v));
}
void require_finite_non_negative(double v, const char* name) {
  require(std::isfinite(v) && v >= 0, std::string(name) + " must be finite and not negative", show(v));
}
void require_at_least(int64_t v, int64_t least, const char* name) {
  require(v >= least, std::string(name) + " must be at least " + std::to_string(least), std::to_string(v));
}

}  // namespace

const std::vector<std::string>& objective_names() {
  static const std::vector<std::string> names = {"steper", "uniform", "vanilla", "lm", "balanced", "tied"};
  return names;
}

void objective_name_check(const std::string& name, const std::string& flag) {
  const auto& names = objective_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  throw Error(flag + ": unknown objective '" + name + "' (expected " + list + ")");
}

void train_config_check(const TrainConfig& c) {
  if (c.model_dir.empty()) throw Error("--model is required");
  if (c.traces_path.empty()) throw Error("--traces is required");
  if (c.out_dir.empty()) throw Error("--out is required");

  const int budgets = c.epochs.has_value() + c.train_steps.has_value() + c.train_tokens.has_value();
  if (budgets > 1) throw Error("--epochs, --train-steps and --train-tokens: give at most one");
  if (c.epochs) require_finite_positive(*c.epochs, "--epochs");
  if (c.train_steps) require_at_least(*c.train_steps, 1, "--train-steps");
  if (c.train_tokens) require_at_least(*c.train_tokens, 1, "--train-tokens");

  require_finite_positive(c.lr, "--lr");
  require(std::isfinite(c.min_lr_ratio) && c.min_lr_ratio >= 0 && c.min_lr_ratio <= 1,
          "--min-lr-ratio must lie in [0, 1]", show(c.min_lr_ratio));
  require_finite_positive(c.sigma_lr_scale, "--sigma-lr-scale");
  require_at_least(c.warmup, 0, "--warmup");
  require_finite_non_negative(c.weight_decay, "--weight-decay");
  require(c.beta1 >= 0 && c.beta1 < 1, "beta1 must lie in [0, 1)", show(c.beta1));
  require(c.beta2 >= 0 && c.beta2 < 1, "beta2 must lie in [0, 1)", show(c.beta2));
  require_finite_positive(c.adam_eps, "adam_eps");
  require_at_least(c.batch_tokens, 16, "--batch-tokens");
  require_at_least(c.grad_accum, 1, "--grad-accum");
  require_finite_non_negative(c.clip, "--clip");
  require_at_least(c.checkpoint_every, 0, "--checkpoint-every");
  require_at_least(c.max_len, 0, "--max-len");
  require_at_least(c.threads, 0, "--threads");
  require_at_least(c.torch_threads, 0, "torch_threads");
  require_at_least(c.stop_after, 0, "--stop-after");
  dist_env_check(c.dist);
  if (c.lora) c.lora->validate();
  if (c.lora_base_bf16 && !c.lora) throw Error("--lora-base-bf16 needs --lora-rank");

  namespace fs = std::filesystem;
  if (!file_exists((fs::path(c.model_dir) / "config.json").string()))
    throw Error(c.model_dir + ": --model: not a model folder (no config.json)");
  if (!file_exists((fs::path(c.model_dir) / "tokenizer.json").string()))
    throw Error(c.model_dir + ": --model: no tokenizer.json");
}

nlohmann::json train_config_json(const TrainConfig& c) {
  auto or_null = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"model", c.model_dir},
          {"traces", c.traces_path},
          {"objective", c.objective},
          {"out", c.out_dir},
          {"epochs", or_null(c.epochs)},
          {"train_steps", or_null(c.train_steps)},
          {"train_tokens", or_null(c.train_tokens)},
          {"lr", c.lr},
          {"min_lr_ratio", c.min_lr_ratio},
          {"sigma_lr_scale", c.sigma_lr_scale},
          {"warmup", c.warmup},
          {"weight_decay", c.weight_decay},
          {"betas", {c.beta1, c.beta2}},
          {"adam_eps", c.adam_eps},
          {"batch_tokens", c.batch_tokens},
          {"grad_accum", c.grad_accum},
          {"clip", c.clip},
          {"seed", c.seed},
          {"device", c.device},
          {"checkpoint_every", c.checkpoint_every},
          {"max_len", c.max_len},
          {"world_size", c.dist.world_size},
          {"dist_backend", c.dist.backend},
          {"lora", c.lora ? c.lora->to_peft_json() : nlohmann::json()},
          {"lora_base_bf16", c.lora_base_bf16},
          {"grad_checkpoint", c.grad_checkpoint},
          {"bf16", c.bf16},
          {"packing", c.packing},
          // the loop options assumed for traces that record none (those that do are trained as recorded)
          {"loop_for_old_traces", to_json(c.loop)}};
}

}  // namespace steper
