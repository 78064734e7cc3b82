// The training loop: traces -> examples -> shared-prefix rows -> token-budget batches -> AdamW on the chosen
// objective. Data and batching live in distill/data, packing in distill/packing, one step's forward and
// backward in distill/step, checkpoints in distill/checkpoint, the metrics log and plots in
// distill/metrics_log; this file holds the loop and the helpers it reads through.
#include "distill/trainer.h"

#include "core/trace_json.h"

#include <ATen/record_function.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "distill/adamw.h"
#include "distill/checkpoint.h"
#include "distill/data_parallel.h"
#include "distill/examples.h"
#include "distill/objective.h"
#include "distill/packing.h"
#include "distill/step.h"
#include "model/llama.h"
#include "model/lora.h"
#include "model/model.h"
#include "text/tokenizer.h"

namespace steper {

namespace fs = std::filesystem;

double lr_at_step(int64_t step, int64_t total, double lr, int64_t warmup, double min_ratio) {
  if (warmup > 0 && step <= warmup) return lr * static_cast<double>(step) / static_cast<double>(warmup);
  int64_t span = std::max<int64_t>(1, total - warmup);
  double progress = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(span));
  return lr * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

// The one place training examples are built from traces.
std::vector<StepExample> load_examples(const TrainConfig& cfg, bool agg_only, TraceLoadStats* stats) {
  std::vector<Trace> traces = load_traces(cfg.traces_path, stats);
  size_t assumed = resolve_loop_options(traces, cfg.loop, cfg.loop_given, cfg.traces_path);
  if (assumed > 0 && !cfg.quiet)
    std::fprintf(stderr, "steper train: %zu traces record no loop options (made before traces did); built with %s\n",
                 assumed, to_json(cfg.loop).dump().c_str());
  return select_examples(build_examples(traces, agg_only), agg_only);
}

namespace {

double cpu_now() {
  struct timespec ts {};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double peak_rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

torch::Device device_from_flag(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const std::exception&) {
    throw Error("--device: unknown device '" + name + "' (expected cpu, cuda or cuda:N)");
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error("--device " + name + ": this libtorch has no CUDA device available");
  return device;
}

// One GPU per worker: a plain --device cuda of a data-parallel worker is cuda:LOCAL_RANK.
torch::Device worker_device(torch::Device device, const DistEnv& dist) {
  if (!device.is_cuda() || device.has_index() || !dist.distributed()) return device;
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist.local_rank));
}

// Progress lines off for this thread while a quiet run lasts, however it ends.
struct QuietScope {
  bool on;
  explicit QuietScope(bool quiet) : on(quiet) {
    if (on) Progress::set_quiet(true);
  }
  ~QuietScope() {
    if (on) Progress::set_quiet(false);
  }
};

// ---- data ------------------------------------------------------------------------------------------

struct TrainData {
  std::vector<TokenizedExample> examples;
  TraceLoadStats trace_stats;
  size_t traces = 0;  // kept
  TokenizeStats token_stats;
  int32_t eos_id = -1;
  std::vector<Pack> packs;  // the rows computed: packs of a trace's examples, or one example each
  PackStats pack_stats;
  StepData step_data() const { return {examples, packs}; }
};

TrainData load_data(const TrainConfig& cfg, Objective objective, const LlamaConfig& mc) {
  TrainData d;
  std::vector<StepExample> examples = load_examples(cfg, objective_agg_only(objective), &d.trace_stats);
  d.traces = d.trace_stats.lines - d.trace_stats.not_kept;
  Tokenizer tokenizer = Tokenizer::from_file((fs::path(cfg.model_dir) / "tokenizer.json").string());
  TokenizeOptions topts;
  topts.max_len = static_cast<int32_t>(cfg.max_len);
  topts.eos_id = tokenizer.eos_id() >= 0 ? tokenizer.eos_id() : static_cast<int32_t>(mc.eos_token_id);
  d.eos_id = topts.eos_id;
  if (topts.eos_id < 0)
    std::fprintf(stderr, "steper train: note: neither tokenizer.json nor config.json names an end token; "
                         "aggregation targets carry no end marker\n");
  auto encode = [&](const std::string& text, bool is_prompt) { return tokenizer.encode(text, is_prompt); };
  d.examples = tokenize_examples(examples, encode, topts, &d.token_stats);
  if (objective == Objective::kLm)  // score every token after the first, passages included
    for (auto& e : d.examples) e.target_start = std::min<int32_t>(1, e.length() - 1);
  if (d.examples.empty())
    throw Error(cfg.traces_path + ": no training examples (" + std::to_string(d.traces) + " kept traces, " +
                std::to_string(d.token_stats.dropped_too_long) + " examples longer than --max-len)");
  PackOptions popts;
  popts.enabled = cfg.packing;
  popts.limit = static_cast<int32_t>(std::min(cfg.batch_tokens, cfg.max_len));
  d.packs = build_packs(d.examples, popts, &d.pack_stats);
  return d;
}

int64_t resolved_max_len(const TrainConfig& cfg, const LlamaConfig& mc) {
  if (cfg.max_len == 0) return mc.max_position_embeddings;
  if (cfg.max_len > mc.max_position_embeddings)
    throw Error("--max-len " + std::to_string(cfg.max_len) + " exceeds the model's max_position_embeddings (" +
                std::to_string(mc.max_position_embeddings) + ")");
  return cfg.max_len;
}

void say_data(const TrainConfig& cfg, Objective objective, const TrainData& d, int blas_threads) {
  if (cfg.quiet) return;
  const TokenizeStats& k = d.token_stats;
  std::fprintf(stderr,
               "steper train: %s: %zu traces (%zu not kept), %zu examples (init %zu, exp %zu, agg %zu), "
               "%zu prompt + %zu target tokens, %zu prompts cut, %zu too long; %d BLAS threads\n",
               objective_name(objective), d.traces, d.trace_stats.not_kept, d.examples.size(), k.per_task[0],
               k.per_task[1], k.per_task[2], k.prompt_tokens, k.target_tokens, k.truncated, k.dropped_too_long,
               blas_threads);
  const PackStats& p = d.pack_stats;
  if (cfg.packing)
    std::fprintf(stderr,
                 "steper train: packing: %zu rows computing %lld tokens (%.2fx fewer than %lld); %zu of %zu "
                 "traces over %lld tokens fell back (split), %zu steps shared less than their passages\n",
                 p.rows, static_cast<long long>(p.computed_tokens),
                 static_cast<double>(p.example_tokens) / static_cast<double>(std::max<int64_t>(1, p.computed_tokens)),
                 static_cast<long long>(p.example_tokens), p.split_traces, p.traces,
                 static_cast<long long>(std::min(cfg.batch_tokens, cfg.max_len)), p.unshared_steps);
}

nlohmann::json pack_stats_json(const TrainConfig& cfg, const PackStats& p) {
  return {{"enabled", cfg.packing},          {"rows", p.rows},
          {"traces", p.traces},              {"split_traces", p.split_traces},
          {"unshared_steps", p.unshared_steps}, {"example_tokens", p.example_tokens},
          {"computed_tokens", p.computed_tokens}};
}

BatchOptions batch_options(const TrainConfig& cfg, const std::vector<BatchUnit>& units) {
  BatchOptions b;
  // every batch scores every task when rows hold one task each; packs hold them all already
  b.mix_tasks = std::all_of(units.begin(), units.end(), [](const BatchUnit& u) { return u.task >= 0; });
  b.batch_tokens = cfg.batch_tokens;
  b.seed = cfg.seed;
  return b;
}

void write_run_config(const TrainConfig& cfg, int64_t total_steps, int blas_threads, const TrainData& d) {
  nlohmann::json cj = train_config_json(cfg);
  const TokenizeStats& k = d.token_stats;
  cj["total_steps"] = total_steps;
  cj["blas_threads"] = blas_threads;
  cj["torch_threads"] = std::max(1, cfg.torch_threads);
  cj["data"] = {{"traces", d.traces},          {"traces_not_kept", d.trace_stats.not_kept},
                {"examples", d.examples.size()}, {"examples_init", k.per_task[0]},
                {"examples_exp", k.per_task[1]}, {"examples_agg", k.per_task[2]},
                {"prompt_tokens", k.prompt_tokens}, {"target_tokens", k.target_tokens},
                {"prompts_cut", k.truncated},    {"dropped_too_long", k.dropped_too_long},
                {"eos_id", d.eos_id}};
  cj["packing_stats"] = pack_stats_json(cfg, d.pack_stats);
  write_json_atomic((fs::path(cfg.out_dir) / "config.json").string(), cj);
}

// A resumed run packs as the run it continues did, whatever the flag says now.
void adopt_recorded_packing(TrainConfig& cfg) {
  const bool recorded = checkpoint_packing(cfg.out_dir);
  if (recorded != cfg.packing && !cfg.quiet)
    std::fprintf(stderr, "steper train: --resume: packing %s, as the checkpoint recorded\n", recorded ? "on" : "off");
  cfg.packing = recorded;
}

// ---- model and optimizer ---------------------------------------------------------------------------

// What training updates: the model (or, with --lora-rank, only its LoRA adapters: the base frozen), sigma
// (as s_j = log sigma_j^2) and AdamW over both, with weight decay on matrices only (sigma, norms and
// biases undecayed; sigma trained by the objectives that learn it, in a group of its own).
struct Trainee {
  Llama model;
  TaskWeighting weighting;
  std::shared_ptr<LoraAdapters> lora;                          // null: every weight is trained
  std::vector<std::pair<std::string, torch::Tensor>> trained;  // by name: the model's or the adapters'
  std::vector<torch::Tensor> model_params;                     // the same tensors
  std::unique_ptr<torch::optim::AdamW> optimizer;
  CheckpointParts parts() { return {trained, weighting, *optimizer}; }
};

Trainee make_trainee(const TrainConfig& cfg, Objective objective, Llama model, torch::Device device) {
  Trainee t{std::move(model), TaskWeighting(), nullptr, {}, {}, nullptr};
  t.weighting->to(device);
  t.model->set_grad_checkpoint(cfg.grad_checkpoint);
  if (cfg.lora) {
    LoraConfig lc = *cfg.lora;
    lc.base_model = cfg.model_dir;
    t.lora = std::make_shared<LoraAdapters>(t.model->config(), lc, cfg.seed);
    t.lora->to(device);
    for (auto& np : t.model->hf_named_parameters()) np.second.set_requires_grad(false);
    if (cfg.lora_base_bf16) lora_hold_base_in_bfloat16(t.model);
    t.model->set_lora(t.lora);
    t.trained = t.lora->named_tensors();
  } else {
    t.trained = t.model->hf_named_parameters();
  }
  for (auto& np : t.trained) {
    np.second.set_requires_grad(true);
    t.model_params.push_back(np.second);
  }
  std::vector<torch::Tensor> decay, no_decay;
  split_decay(t.model_params, decay, no_decay);
  std::vector<torch::Tensor> sigma;
  if (objective_learns_sigma(objective)) sigma.push_back(t.weighting->log_var);
  t.optimizer =
      make_adamw(decay, no_decay, {cfg.lr, cfg.beta1, cfg.beta2, cfg.adam_eps, cfg.weight_decay}, sigma);
  return t;
}

// The model's groups at lr; sigma's group (the third, when sigma is learned) at lr * sigma_scale.
void set_lr(torch::optim::Optimizer& optimizer, double lr, double sigma_scale) {
  auto& groups = optimizer.param_groups();
  for (size_t i = 0; i < groups.size(); ++i)
    static_cast<torch::optim::AdamWOptions&>(groups[i].options()).lr(i == 2 ? lr * sigma_scale : lr);
}

// ---- one step (distill/step.h) -------------------------------------------------------------------

// Named ranges (steper::...) mark the parts of a step for profilers: bench/distill prints where the time goes.
void apply_update(Trainee& t) {
  RECORD_USER_SCOPE("steper::optimizer");
  t.optimizer->step();
}

// What every worker trains: the model's parameters, then sigma.
std::vector<torch::Tensor> trained_tensors(Trainee& t) {
  std::vector<torch::Tensor> all = t.model_params;
  all.push_back(t.weighting->log_var);
  return all;
}

// Sums the gradients and the step's losses over the workers (bucketed all-reduce), so that each holds
// what one process computing every micro-batch would hold.
void all_reduce_step(DataParallel& dp, Trainee& t, StepLoss& loss) {
  std::vector<torch::Tensor> grads;
  for (torch::Tensor& p : trained_tensors(t)) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  torch::Tensor losses = torch::tensor({loss.loss, loss.task_loss[0], loss.task_loss[1], loss.task_loss[2]},
                                       torch::kDouble);
  grads.push_back(losses);
  dp.all_reduce_sum(grads);
  loss.loss = losses[0].item<double>();
  for (size_t j = 0; j < 3; ++j) loss.task_loss[j] = losses[static_cast<int64_t>(j) + 1].item<double>();
}

// The gradient norm of the model's parameters, clipped to `clip` when clip > 0.
double clip_gradients(const std::vector<torch::Tensor>& params, double clip) {
  RECORD_USER_SCOPE("steper::clip_and_checks");
  if (clip > 0) return torch::nn::utils::clip_grad_norm_(params, clip);
  double sq = 0;
  for (const auto& p : params)
    if (p.grad().defined()) sq += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

// Stops the run at a step whose loss or gradients are not finite (before the update), or whose update
// made a weight not finite: the checkpoint on disk stays the last good one, and no model is written.
void stop_if_not_finite(const TrainConfig& cfg, int64_t step, int64_t total_steps, const std::string& what) {
  if (what.empty()) return;
  const std::string last = checkpoint_latest(cfg.out_dir);
  throw Error(cfg.out_dir + ": step " + std::to_string(step) + " of " + std::to_string(total_steps) + ": " + what +
              " is not finite (try a lower --lr); stopped without writing a model; " +
              (last.empty() ? std::string("no checkpoint was written") : "the last good checkpoint is " + last));
}

std::string non_finite_gradient(const StepLoss& loss, double grad_norm, const Trainee& t) {
  if (!std::isfinite(loss.loss)) return "the loss (" + std::to_string(loss.loss) + ")";
  if (!std::isfinite(grad_norm)) return "the gradient norm (" + std::to_string(grad_norm) + ")";
  const torch::Tensor& g = t.weighting->log_var.grad();
  if (g.defined() && !torch::isfinite(g).all().item<bool>()) return "the gradient of sigma";
  return "";
}

// The first weight that is not finite, or "": one summed reduction (a double sum of finite floats cannot
// overflow, so it is finite exactly when every weight is), then a search only when it is not.
std::string non_finite_weight(Trainee& t) {
  RECORD_USER_SCOPE("steper::clip_and_checks");
  torch::NoGradGuard no_grad;
  auto named = t.trained;
  named.emplace_back("sigma", t.weighting->log_var);
  std::vector<torch::Tensor> sums;
  for (const auto& np : named) sums.push_back(np.second.sum(torch::kDouble));
  if (std::isfinite(torch::stack(sums).sum().item<double>())) return "";
  for (const auto& np : named)
    if (!torch::isfinite(np.second).all().item<bool>()) return "weight " + np.first + " after the update";
  return "a weight after the update";
}

// ---- bookkeeping -----------------------------------------------------------------------------------

struct RunClock {
  int64_t tokens = 0, examples = 0;  // processed by this process
  double seconds = 0, cpu_seconds = 0;
  double tokens_per_s() const { return seconds > 0 ? static_cast<double>(tokens) / seconds : 0; }
};

TrainStepRecord step_record(int64_t step, int64_t total_steps, double lr, const StepBatches& b, const StepLoss& loss,
                            const Trainee& t, const TrainState& st, const RunClock& clock) {
  TrainStepRecord r;
  r.step = step;
  r.total_steps = total_steps;
  r.lr = lr;
  r.loss = loss.loss;
  r.task_loss = loss.task_loss;
  r.sigma = t.weighting->sigma();
  r.tokens = b.tokens;
  r.target_tokens = b.target_tokens;
  r.padded_tokens = b.padded_tokens;
  r.examples = b.examples;
  r.total_tokens = st.tokens;
  r.tokens_per_s = clock.tokens_per_s();
  r.padding_share = 1.0 - static_cast<double>(b.tokens) / static_cast<double>(b.padded_tokens);
  r.epoch = b.epoch;
  return r;
}

void advance(TrainState& st, const StepBatches& b) {
  st.step++;
  st.tokens += b.tokens;
  st.target_tokens += b.target_tokens;
  st.padded_tokens += b.padded_tokens;
}

TrainResult finish_run(const TrainConfig& cfg, const TrainState& st, int64_t total_steps, const RunClock& clock,
                       const TrainData& data, Trainee& t, const StepLoss& last) {
  TrainResult r;
  r.steps = st.step;
  r.total_steps = total_steps;
  r.tokens = st.tokens;
  r.target_tokens = st.target_tokens;
  r.padded_tokens = st.padded_tokens;
  r.seconds = clock.seconds;
  r.cpu_seconds = clock.cpu_seconds;
  r.tokens_per_s = clock.tokens_per_s();
  r.examples_seen = clock.examples;
  r.examples_per_s = clock.seconds > 0 ? static_cast<double>(clock.examples) / clock.seconds : 0;
  r.packing = cfg.packing;
  r.pack_stats = data.pack_stats;
  r.padding_share =
      st.padded_tokens > 0 ? 1.0 - static_cast<double>(st.tokens) / static_cast<double>(st.padded_tokens) : 0;
  r.sigma = t.weighting->sigma();
  r.last_loss = last.loss;
  r.last_task_loss = last.task_loss;
  r.examples = data.examples.size();
  for (size_t j = 0; j < 3; ++j) r.examples_per_task[j] = data.token_stats.per_task[j];
  r.finished = st.step >= total_steps;
  r.peak_rss_mb = peak_rss_mb();
  if (cfg.dist.rank != 0) return r;  // rank 0 writes the run folder
  train_write_plots(cfg.out_dir);
  if (r.finished && cfg.write_model) {
    r.model_out = (fs::path(cfg.out_dir) / "model").string();
    if (t.lora) t.lora->save(r.model_out);  // an adapter folder in PEFT's layout, for --model's base
    else llama_save(t.model, r.model_out, read_file((fs::path(cfg.model_dir) / "tokenizer.json").string()));
  }
  write_json_atomic((fs::path(cfg.out_dir) / "summary.json").string(),
                    {{"steps", r.steps},
                     {"total_steps", r.total_steps},
                     {"tokens", r.tokens},
                     {"target_tokens", r.target_tokens},
                     {"padding_share", r.padding_share},
                     {"seconds", r.seconds},
                     {"tokens_per_s", r.tokens_per_s},
                     {"cpu_seconds", r.cpu_seconds},
                     {"peak_rss_mb", r.peak_rss_mb},
                     {"examples_seen", r.examples_seen},
                     {"examples_per_s", r.examples_per_s},
                     {"packing", pack_stats_json(cfg, data.pack_stats)},
                     {"sigma", {{"init", r.sigma[0]}, {"exp", r.sigma[1]}, {"agg", r.sigma[2]}}},
                     {"finished", r.finished}});
  return r;
}

}  // namespace

// ---- the run ---------------------------------------------------------------------------------------

TrainResult train_run(const TrainConfig& config, const std::function<void(const TrainStepRecord&)>& on_step) {
  TrainConfig cfg = config;
  train_config_check(cfg);
  const bool writer = cfg.dist.rank == 0;  // rank 0 writes the run folder; the others only compute
  if (!writer) cfg.quiet = true;
  const Objective objective = objective_from_name(cfg.objective);
  if (cfg.sigma_lr_scale != 1.0 && !objective_learns_sigma(objective))
    throw Error("--sigma-lr-scale: the " + cfg.objective + " objective learns no sigma (steper and tied do)");
  const torch::Device device = worker_device(device_from_flag(cfg.device), cfg.dist);
  std::unique_ptr<DataParallel> dp =
      cfg.dist.distributed() ? std::make_unique<DataParallel>(cfg.dist, device) : nullptr;
  const bool autocast = device.is_cuda() && cfg.bf16;
  torch::set_num_threads(std::max(1, cfg.torch_threads));
  const int blas_threads = blas_threads_set(cfg.threads);
  torch::manual_seed(cfg.seed);

  if (cfg.resume) adopt_recorded_packing(cfg);

  // data, model, optimizer
  Llama model = llama_load(cfg.model_dir, device);
  cfg.max_len = resolved_max_len(cfg, model->config());
  const TrainData data = load_data(cfg, objective, model->config());
  say_data(cfg, objective, data, blas_threads);
  const std::vector<BatchUnit> units = pack_units(data.packs, data.examples);
  BatchStream stream(units, batch_options(cfg, units));
  const int64_t total_steps = plan_total_steps(stream, cfg.grad_accum * cfg.dist.world_size, cfg.epochs,
                                               cfg.train_steps, cfg.train_tokens);
  Trainee t = make_trainee(cfg, objective, std::move(model), device);

  // output folder: a fresh start, or a resume from the last checkpoint
  make_dirs(cfg.out_dir);
  const nlohmann::json fingerprint = resume_fingerprint(cfg, total_steps);
  TrainState st;
  if (cfg.resume) {
    auto replay = [&](int64_t step) {
      TrainState s;
      while (s.step < step) advance(s, get_batches(stream, data.step_data(), s.step + 1, cfg.grad_accum, cfg.dist));
      return s;
    };
    st = checkpoint_read(cfg.out_dir, t.parts(), fingerprint, replay, device);
    if (!cfg.quiet) std::fprintf(stderr, "steper train: resuming at step %lld of %lld\n",
                                 static_cast<long long>(st.step), static_cast<long long>(total_steps));
  }
  if (dp) dp->broadcast(trained_tensors(t));  // every worker starts from rank 0's weights
  std::optional<MetricsLog> log;
  if (writer) {
    log.emplace(cfg.out_dir, cfg.resume ? std::optional<int64_t>(st.step) : std::nullopt);
    write_run_config(cfg, total_steps, blas_threads, data);
  }

  const int64_t stop_at = cfg.stop_after > 0 ? std::min(total_steps, cfg.stop_after) : total_steps;
  QuietScope quiet(cfg.quiet);
  Progress progress("train " + std::string(objective_name(objective)), static_cast<size_t>(total_steps), "steps");
  progress.add(static_cast<size_t>(st.step));
  RunClock clock;
  StepLoss loss;
  t.model->train();
  while (st.step < stop_at) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now();
    const int64_t step = st.step + 1;
    fault_kill_if_asked(cfg.dist.rank, step);
    const double lr = lr_at_step(step, total_steps, cfg.lr, cfg.warmup, cfg.min_lr_ratio);
    set_lr(*t.optimizer, lr, cfg.sigma_lr_scale);

    const StepBatches batches = get_batches(stream, data.step_data(), step, cfg.grad_accum, cfg.dist);
    t.optimizer->zero_grad();
    loss = forward_backward(t.model, t.weighting->log_var, objective, data.step_data(), batches, device, autocast,
                            writer);
    if (dp) all_reduce_step(*dp, t, loss);
    const double grad_norm = clip_gradients(t.model_params, cfg.clip);
    stop_if_not_finite(cfg, step, total_steps, non_finite_gradient(loss, grad_norm, t));
    apply_update(t);
    stop_if_not_finite(cfg, step, total_steps, non_finite_weight(t));
    advance(st, batches);

    clock.tokens += batches.tokens;
    clock.examples += batches.examples;
    clock.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    clock.cpu_seconds += cpu_now() - c0;
    const TrainStepRecord rec = step_record(step, total_steps, lr, batches, loss, t, st, clock);
    if (log) log->append(rec);
    progress.add(1, metrics_progress_text(rec));
    if (on_step) on_step(rec);

    if (writer && (st.step == stop_at || (cfg.checkpoint_every > 0 && st.step % cfg.checkpoint_every == 0)))
      checkpoint_write(cfg.out_dir, t.parts(), st, fingerprint);
  }
  progress.finish();
  return finish_run(cfg, st, total_steps, clock, data, t, loss);
}

}  // namespace steper
