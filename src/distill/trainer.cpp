// The trainer: traces -> examples -> token-budget batches -> AdamW on the chosen objective, with
// checkpoints that resume bit for bit (model, optimizer, sigma, schedule, RNG and data position).
#include "distill/trainer.h"
#include "model/model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <thread>

#include "core/error.h"
#include "core/io.h"
#include "core/plot.h"
#include "core/progress.h"
#include "distill/data.h"
#include "distill/examples.h"
#include "distill/objective.h"
#include "model/llama.h"
#include "text/tokenizer.h"

namespace steper {

namespace fs = std::filesystem;

// ---- schedule and threads --------------------------------------------------------------------------

double lr_at_step(int64_t step, int64_t total, double lr, int64_t warmup, double min_ratio) {
  if (warmup > 0 && step <= warmup) return lr * static_cast<double>(step) / static_cast<double>(warmup);
  int64_t span = std::max<int64_t>(1, total - warmup);
  double progress = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(span));
  return lr * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(M_PI * progress)));
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

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

// ---- the stream of micro-batches across epochs -----------------------------------------------------

class BatchStream {
 public:
  BatchStream(const std::vector<TokenizedExample>& data, BatchOptions opts) : data_(data), opts_(opts) {}

  // micro-batch g (0-based, counted from the start of training); *epoch gets its epoch
  const Batch& at(int64_t g, int64_t* epoch) {
    while (starts_.empty() || starts_.back() <= g) {
      int64_t e = static_cast<int64_t>(starts_.size());
      int64_t n = static_cast<int64_t>(plan(e).size());
      if (n == 0) throw Error("no batches: every training example was filtered out");
      starts_.push_back((starts_.empty() ? 0 : starts_.back()) + n);
    }
    int64_t e = 0;
    while (starts_[static_cast<size_t>(e)] <= g) ++e;
    int64_t first = e == 0 ? 0 : starts_[static_cast<size_t>(e - 1)];
    if (epoch) *epoch = e;
    return plan(e)[static_cast<size_t>(g - first)];
  }
  int64_t batches_in_epoch(int64_t e) { return static_cast<int64_t>(plan(e).size()); }

 private:
  const std::vector<Batch>& plan(int64_t e) {
    if (e != cached_epoch_) {
      cached_ = plan_epoch(data_, e, opts_);
      cached_epoch_ = e;
    }
    return cached_;
  }
  const std::vector<TokenizedExample>& data_;
  BatchOptions opts_;
  std::vector<int64_t> starts_;  // cumulative micro-batch counts at the end of each planned epoch
  int64_t cached_epoch_ = -1;
  std::vector<Batch> cached_;
};

// How many optimizer steps the budget buys.
int64_t plan_total_steps(const TrainConfig& c, BatchStream& stream) {
  const int64_t A = c.grad_accum;
  if (c.train_steps > 0) return c.train_steps;
  if (c.train_tokens > 0) {
    int64_t tokens = 0, g = 0, steps = 0;
    while (tokens < c.train_tokens) {
      for (int64_t a = 0; a < A; ++a) tokens += stream.at(g++, nullptr).tokens;
      ++steps;
    }
    return steps;
  }
  double epochs = c.epochs > 0 ? c.epochs : 1.0;
  int64_t whole = static_cast<int64_t>(std::floor(epochs));
  int64_t micro = 0;
  for (int64_t e = 0; e < whole; ++e) micro += stream.batches_in_epoch(e);
  micro += static_cast<int64_t>(std::floor((epochs - static_cast<double>(whole)) *
                                           static_cast<double>(stream.batches_in_epoch(whole))));
  return std::max<int64_t>(1, micro / A);
}

// ---- one micro-batch as tensors --------------------------------------------------------------------

struct MicroBatch {
  torch::Tensor ids;        // [B, T]
  torch::Tensor positions;  // [N] flat indices into [B*T] of the hidden states that predict a target token
  torch::Tensor labels;     // [N]
  std::vector<int64_t> task, example_len;
};

MicroBatch micro_batch(const std::vector<TokenizedExample>& data, const BatchPart& batch) {
  MicroBatch mb;
  const int64_t B = static_cast<int64_t>(batch.examples.size()), T = batch.max_len;
  std::vector<int64_t> ids(static_cast<size_t>(B * T), 0), pos, labels;
  for (int64_t b = 0; b < B; ++b) {
    const TokenizedExample& ex = data[batch.examples[static_cast<size_t>(b)]];
    for (int32_t t = 0; t < ex.length(); ++t) ids[static_cast<size_t>(b * T + t)] = ex.ids[static_cast<size_t>(t)];
    for (int32_t t = ex.target_start; t < ex.length(); ++t) {
      pos.push_back(b * T + t - 1);  // the hidden state at t-1 predicts token t
      labels.push_back(ex.ids[static_cast<size_t>(t)]);
      mb.task.push_back(static_cast<int64_t>(ex.task));
      mb.example_len.push_back(ex.target_length());
    }
  }
  auto n = static_cast<int64_t>(pos.size());
  mb.ids = torch::from_blob(ids.data(), {B, T}, torch::kLong).clone();
  mb.positions = torch::from_blob(pos.data(), {n}, torch::kLong).clone();
  mb.labels = torch::from_blob(labels.data(), {n}, torch::kLong).clone();
  return mb;
}

// ---- checkpoints -----------------------------------------------------------------------------------

const char* kCheckpointPointer = "checkpoint.json";

// The settings a resumed run must share with the run it continues.
nlohmann::json resume_fingerprint(const TrainConfig& c, int64_t total_steps) {
  return {{"objective", c.objective}, {"seed", c.seed},           {"batch_tokens", c.batch_tokens},
          {"grad_accum", c.grad_accum}, {"lr", c.lr},             {"warmup", c.warmup},
          {"total_steps", total_steps}, {"max_len", c.max_len},   {"world_size", c.world_size},
          {"rank", c.rank}};
}

struct TrainState {
  int64_t step = 0, tokens = 0, target_tokens = 0, padded_tokens = 0;
};

void checkpoint_write(const std::string& out, Llama& model, TaskWeighting& weighting, torch::optim::Optimizer& opt,
                      const TrainState& st, const nlohmann::json& fingerprint) {
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-%08lld", static_cast<long long>(st.step));
  fs::path final_dir = fs::path(out) / name;
  fs::path tmp = fs::path(out) / (std::string(name) + ".tmp-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  {
    torch::serialize::OutputArchive ar;
    for (auto& np : model->hf_named_parameters()) ar.write(np.first, np.second.detach().to(torch::kCPU));
    ar.write("steper.log_var", weighting->log_var.detach().to(torch::kCPU));
    auto gen = at::detail::getDefaultCPUGenerator();
    torch::Tensor rng;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng = gen.get_state();
    }
    ar.write("steper.cpu_rng_state", rng);
    ar.save_to((tmp / "weights.pt").string());
  }
  {
    torch::serialize::OutputArchive ar;
    opt.save(ar);
    ar.save_to((tmp / "optimizer.pt").string());
  }
  nlohmann::json state = {{"step", st.step},
                          {"tokens", st.tokens},
                          {"target_tokens", st.target_tokens},
                          {"padded_tokens", st.padded_tokens},
                          {"fingerprint", fingerprint}};
  write_json_atomic((tmp / "state.json").string(), state);
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);
  write_json_atomic((fs::path(out) / kCheckpointPointer).string(), {{"latest", name}});
  // older checkpoints go once the pointer names the new one
  for (const auto& entry : fs::directory_iterator(out)) {
    std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.rfind("checkpoint-", 0) == 0 && n != name) fs::remove_all(entry.path());
  }
}

TrainState checkpoint_read(const std::string& out, Llama& model, TaskWeighting& weighting,
                           torch::optim::Optimizer& opt, const nlohmann::json& fingerprint, torch::Device device) {
  std::string pointer = (fs::path(out) / kCheckpointPointer).string();
  if (!file_exists(pointer)) throw Error(out + ": --resume: no checkpoint here (" + kCheckpointPointer + " missing)");
  std::string name = json_string(read_json(pointer), "latest", pointer);
  fs::path dir = fs::path(out) / name;
  std::string state_path = (dir / "state.json").string();
  nlohmann::json state = read_json(state_path);
  const nlohmann::json& fp = json_field(state, "fingerprint", state_path);
  const std::map<std::string, std::string> flag = {
      {"objective", "--objective"},   {"seed", "--seed"},       {"batch_tokens", "--batch-tokens"},
      {"grad_accum", "--grad-accum"}, {"lr", "--lr"},           {"warmup", "--warmup"},
      {"max_len", "--max-len"},       {"rank", "rank"},         {"world_size", "world size"},
      {"total_steps", "total steps (--epochs/--train-steps/--train-tokens)"}};
  for (auto it = fingerprint.begin(); it != fingerprint.end(); ++it) {
    if (!fp.contains(it.key()) || fp[it.key()] != it.value()) {
      auto f = flag.find(it.key());
      throw Error(state_path + ": --resume: the checkpoint was written with " +
                  (f != flag.end() ? f->second : it.key()) + " " +
                  (fp.contains(it.key()) ? fp[it.key()].dump() : "(none)") + ", this run has " + it.value().dump());
    }
  }
  {
    torch::serialize::InputArchive ar;
    ar.load_from((dir / "weights.pt").string());
    torch::NoGradGuard no_grad;
    for (auto& np : model->hf_named_parameters()) {
      torch::Tensor t;
      if (!ar.try_read(np.first, t)) throw Error((dir / "weights.pt").string() + ": no tensor " + np.first);
      np.second.copy_(t.to(device));
    }
    torch::Tensor lv, rng;
    ar.read("steper.log_var", lv);
    weighting->log_var.copy_(lv.to(device));
    ar.read("steper.cpu_rng_state", rng);
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  }
  {
    torch::serialize::InputArchive ar;
    ar.load_from((dir / "optimizer.pt").string(), device);
    opt.load(ar);
  }
  TrainState st;
  st.step = state.at("step").get<int64_t>();
  st.tokens = state.at("tokens").get<int64_t>();
  st.target_tokens = state.at("target_tokens").get<int64_t>();
  st.padded_tokens = state.at("padded_tokens").get<int64_t>();
  return st;
}

// metrics.jsonl keeps the steps up to the checkpoint; later lines belong to the interrupted tail
void metrics_truncate(const std::string& path, int64_t step) {
  if (!file_exists(path)) return;
  std::string kept;
  for_each_jsonl(path, [&](const nlohmann::json& j, size_t) {
    if (j.value("step", int64_t{0}) <= step) kept += j.dump() + "\n";
  });
  write_file_atomic(path, kept);
}

// ---- configuration checks --------------------------------------------------------------------------

void config_check(const TrainConfig& c) {
  if (c.model_dir.empty()) throw Error("--model is required");
  if (c.traces_path.empty()) throw Error("--traces is required");
  if (c.out_dir.empty()) throw Error("--out is required");
  int budgets = (c.epochs > 0) + (c.train_steps > 0) + (c.train_tokens > 0);
  if (budgets > 1) throw Error("--epochs, --train-steps and --train-tokens: give at most one");
  if (c.epochs < 0 || c.train_steps < 0 || c.train_tokens < 0) throw Error("--epochs/--train-steps/--train-tokens must not be negative");
  if (!(c.lr > 0)) throw Error("--lr must be positive");
  if (c.warmup < 0) throw Error("--warmup must not be negative");
  if (c.batch_tokens < 16) throw Error("--batch-tokens must be at least 16");
  if (c.grad_accum < 1) throw Error("--grad-accum must be at least 1");
  if (c.clip < 0) throw Error("--clip must not be negative");
  if (c.checkpoint_every < 0) throw Error("--checkpoint-every must not be negative");
  if (c.max_len < 0) throw Error("--max-len must not be negative");
  if (!file_exists((fs::path(c.model_dir) / "config.json").string()))
    throw Error(c.model_dir + ": --model: not a model folder (no config.json)");
  if (!file_exists((fs::path(c.model_dir) / "tokenizer.json").string()))
    throw Error(c.model_dir + ": --model: no tokenizer.json");
}

nlohmann::json config_json(const TrainConfig& c) {
  return {{"model", c.model_dir},
          {"traces", c.traces_path},
          {"objective", c.objective},
          {"out", c.out_dir},
          {"epochs", c.epochs},
          {"train_steps", c.train_steps},
          {"train_tokens", c.train_tokens},
          {"lr", c.lr},
          {"min_lr_ratio", c.min_lr_ratio},
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
          {"rank", c.rank},
          {"world_size", c.world_size},
          {"bf16", c.bf16}};
}

}  // namespace

// ---- plots -----------------------------------------------------------------------------------------

void train_write_plots(const std::string& out_dir) {
  std::string path = (fs::path(out_dir) / "metrics.jsonl").string();
  if (!file_exists(path)) return;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const char* names[3] = {"init", "exp", "agg"};
  std::vector<PlotSeries> loss(4), sigma(3);
  loss[0].name = "objective";
  loss[0].color = "#999999";
  for (int j = 0; j < 3; ++j) {
    loss[static_cast<size_t>(j) + 1].name = std::string("L_") + names[j];
    sigma[static_cast<size_t>(j)].name = std::string("sigma_") + names[j];
  }
  auto num = [&](const nlohmann::json& j, const std::string& k) {
    auto it = j.find(k);
    return (it != j.end() && it->is_number()) ? it->get<double>() : nan;
  };
  for_each_jsonl(path, [&](const nlohmann::json& j, size_t) {
    double step = num(j, "step");
    loss[0].x.push_back(step);
    loss[0].y.push_back(num(j, "loss"));
    for (int t = 0; t < 3; ++t) {
      auto& ls = loss[static_cast<size_t>(t) + 1];
      ls.x.push_back(step);
      ls.y.push_back(num(j, std::string("loss_") + names[t]));
      auto& ss = sigma[static_cast<size_t>(t)];
      ss.x.push_back(step);
      ss.y.push_back(num(j, std::string("sigma_") + names[t]));
    }
  });
  // absent tasks (NaN) would break the lines into dots: plot a light running mean over present values
  for (auto& s : loss) {
    std::vector<double> smooth(s.y.size(), nan);
    double acc = 0;
    bool any = false;
    for (size_t i = 0; i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      acc = any ? 0.9 * acc + 0.1 * s.y[i] : s.y[i];
      any = true;
      smooth[i] = acc;
    }
    s.y = smooth;
  }
  PlotOptions lo;
  lo.title = "Loss per task (running mean)";
  lo.x_label = "step";
  lo.y_label = "cross-entropy per target token";
  lo.log_y = true;
  plot_write_svg((fs::path(out_dir) / "loss.svg").string(), loss, lo);
  PlotOptions so;
  so.title = "Task uncertainty sigma_j (larger = less weight)";
  so.x_label = "step";
  so.y_label = "sigma";
  plot_write_svg((fs::path(out_dir) / "sigma.svg").string(), sigma, so);
}

// ---- the run ---------------------------------------------------------------------------------------

TrainResult train_run(const TrainConfig& cfg_in, const std::function<void(const TrainStepRecord&)>& on_step) {
  TrainConfig cfg = cfg_in;
  config_check(cfg);
  const Objective objective = objective_from_name(cfg.objective);
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(cfg.device);
  } catch (const std::exception&) {
    throw Error("--device: unknown device '" + cfg.device + "' (expected cpu, cuda or cuda:N)");
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error("--device " + cfg.device + ": this libtorch has no CUDA device available");
  torch::set_num_threads(std::max(1, cfg.torch_threads));
  const int blas_threads = blas_threads_set(cfg.threads);
  torch::manual_seed(cfg.seed);

  // data
  TraceLoadStats tstats;
  std::vector<Trace> traces = load_traces(cfg.traces_path, &tstats);
  std::vector<StepExample> examples = select_examples(build_examples(traces, objective_agg_only(objective)),
                                                      objective_agg_only(objective));
  Tokenizer tokenizer = Tokenizer::from_file((fs::path(cfg.model_dir) / "tokenizer.json").string());
  Llama model = llama_load(cfg.model_dir, device);
  const LlamaConfig& mc = model->config();
  if (cfg.max_len == 0) cfg.max_len = mc.max_position_embeddings;
  if (cfg.max_len > mc.max_position_embeddings)
    throw Error("--max-len " + std::to_string(cfg.max_len) + " exceeds the model's max_position_embeddings (" +
                std::to_string(mc.max_position_embeddings) + ")");
  TokenizeOptions topts;
  topts.max_len = static_cast<int32_t>(cfg.max_len);
  topts.eos_id = tokenizer.eos_id() >= 0 ? tokenizer.eos_id() : static_cast<int32_t>(mc.eos_token_id);
  if (topts.eos_id < 0)
    std::fprintf(stderr, "steper train: note: neither tokenizer.json nor config.json names an end token; "
                         "aggregation targets carry no end marker\n");
  TokenizeStats kstats;
  std::vector<TokenizedExample> data = tokenize_examples(
      examples, [&](const std::string& text, bool is_prompt) { return tokenizer.encode(text, is_prompt); }, topts,
      &kstats);
  if (objective == Objective::kLm)  // score every token after the first, passages included
    for (auto& e : data) e.target_start = std::min<int32_t>(1, e.length() - 1);
  if (data.empty())
    throw Error(cfg.traces_path + ": no training examples (" + std::to_string(traces.size()) + " kept traces, " +
                std::to_string(kstats.dropped_too_long) + " examples longer than --max-len)");
  if (!cfg.quiet) {
    std::fprintf(stderr,
                 "steper train: %s: %zu traces (%zu not kept), %zu examples (init %zu, exp %zu, agg %zu), "
                 "%zu prompt + %zu target tokens, %zu prompts cut, %zu too long; %d BLAS threads\n",
                 objective_name(objective), traces.size(), tstats.not_kept, data.size(), kstats.per_task[0],
                 kstats.per_task[1], kstats.per_task[2], kstats.prompt_tokens, kstats.target_tokens, kstats.truncated,
                 kstats.dropped_too_long, blas_threads);
  }

  BatchOptions bopts;
  bopts.batch_tokens = cfg.batch_tokens;
  bopts.seed = cfg.seed;
  bopts.rank = cfg.rank;
  bopts.world_size = cfg.world_size;
  BatchStream stream(data, bopts);
  const int64_t total_steps = plan_total_steps(cfg, stream);

  // optimizer: decay on matrices only; sigma, norms and biases undecayed
  TaskWeighting weighting;
  weighting->to(device);
  std::vector<torch::Tensor> decay, no_decay, model_params;
  for (auto& np : model->hf_named_parameters()) {
    np.second.set_requires_grad(true);
    model_params.push_back(np.second);
    (np.second.dim() >= 2 ? decay : no_decay).push_back(np.second);
  }
  if (objective == Objective::kSteper) no_decay.push_back(weighting->log_var);
  auto adamw = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(cfg.lr).betas({cfg.beta1, cfg.beta2}).eps(cfg.adam_eps).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, adamw(cfg.weight_decay));
  groups.emplace_back(no_decay, adamw(0.0));
  torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(cfg.lr));

  // output folder, resume
  make_dirs(cfg.out_dir);
  const nlohmann::json fingerprint = resume_fingerprint(cfg, total_steps);
  const std::string metrics_path = (fs::path(cfg.out_dir) / "metrics.jsonl").string();
  TrainState st;
  if (cfg.resume) {
    st = checkpoint_read(cfg.out_dir, model, weighting, optimizer, fingerprint, device);
    metrics_truncate(metrics_path, st.step);
    if (!cfg.quiet) std::fprintf(stderr, "steper train: resuming at step %lld of %lld\n",
                                 static_cast<long long>(st.step), static_cast<long long>(total_steps));
  } else if (file_exists(metrics_path)) {
    std::remove(metrics_path.c_str());  // a fresh run starts a fresh log
  }
  nlohmann::json cj = config_json(cfg);
  cj["total_steps"] = total_steps;
  cj["blas_threads"] = blas_threads;
  cj["torch_threads"] = std::max(1, cfg.torch_threads);
  cj["data"] = {{"traces", traces.size()},
                {"traces_not_kept", tstats.not_kept},
                {"examples", data.size()},
                {"examples_init", kstats.per_task[0]},
                {"examples_exp", kstats.per_task[1]},
                {"examples_agg", kstats.per_task[2]},
                {"prompt_tokens", kstats.prompt_tokens},
                {"target_tokens", kstats.target_tokens},
                {"prompts_cut", kstats.truncated},
                {"dropped_too_long", kstats.dropped_too_long},
                {"eos_id", topts.eos_id}};
  write_json_atomic((fs::path(cfg.out_dir) / "config.json").string(), cj);
  JsonlAppender metrics(metrics_path);

  TrainResult result;
  result.total_steps = total_steps;
  result.examples = data.size();
  for (int j = 0; j < 3; ++j) result.examples_per_task[static_cast<size_t>(j)] = kstats.per_task[j];

  const bool autocast = device.is_cuda() && cfg.bf16;
  const int64_t stop_at = cfg.stop_after > 0 ? std::min(total_steps, cfg.stop_after) : total_steps;
  model->train();
  Progress progress("train " + std::string(objective_name(objective)), static_cast<size_t>(total_steps), "steps");
  if (cfg.quiet) Progress::set_quiet(true);
  progress.add(static_cast<size_t>(st.step));
  int64_t run_tokens = 0;
  double train_seconds = 0, cpu_seconds = 0;

  while (st.step < stop_at) {
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now();
    const int64_t step = st.step + 1;
    const double lr = lr_at_step(step, total_steps, cfg.lr, cfg.warmup, cfg.min_lr_ratio);
    for (auto& g : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);

    // the step's micro-batches and what they score in total
    std::vector<const BatchPart*> micro;  // one padded rectangle per forward pass
    int64_t epoch = 0;
    StepTotals totals;
    TrainStepRecord rec;
    for (int a = 0; a < cfg.grad_accum; ++a) {
      int64_t e = 0;
      const Batch& b = stream.at((step - 1) * cfg.grad_accum + a, &e);
      if (a == 0) epoch = e;
      for (const BatchPart& part : b.parts) {
        micro.push_back(&part);
        for (uint32_t i : part.examples) {
          const TokenizedExample& ex = data[i];
          totals.target_tokens[static_cast<size_t>(ex.task)] += ex.target_length();
          totals.examples++;
        }
      }
      rec.tokens += b.tokens;
      rec.target_tokens += b.target_tokens;
      rec.padded_tokens += b.padded_tokens();
    }

    optimizer.zero_grad();
    double loss_sum = 0;
    torch::Tensor task_sum = torch::zeros({kNumTasks}, torch::kDouble);
    for (size_t a = 0; a < micro.size(); ++a) {
      MicroBatch mb = micro_batch(data, *micro[a]);
      ObjectiveTargets targets = objective_targets(mb.task, mb.example_len, totals, device);
      torch::Tensor ids = mb.ids.to(device), positions = mb.positions.to(device), labels = mb.labels.to(device);
      if (autocast) {
        at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
        at::autocast::set_enabled(true);
      }
      torch::Tensor hidden = model->forward_hidden(ids);
      torch::Tensor picked = hidden.reshape({-1, hidden.size(-1)}).index_select(0, positions);
      torch::Tensor ce = token_cross_entropy(model->logits(picked), labels);
      if (autocast) {
        at::autocast::set_enabled(false);
        at::autocast::clear_cache();
      }
      ObjectiveLoss out = objective_loss(objective, ce, targets, totals, weighting->log_var, a == 0);
      out.loss.backward();
      loss_sum += out.loss.item<double>();
      task_sum += out.task_loss.to(torch::kCPU, torch::kDouble);
    }
    if (cfg.clip > 0) torch::nn::utils::clip_grad_norm_(model_params, cfg.clip);
    optimizer.step();

    st.step = step;
    st.tokens += rec.tokens;
    st.target_tokens += rec.target_tokens;
    st.padded_tokens += rec.padded_tokens;
    run_tokens += rec.tokens;
    auto t1 = std::chrono::steady_clock::now();
    train_seconds += std::chrono::duration<double>(t1 - t0).count();
    cpu_seconds += cpu_now() - c0;

    rec.step = step;
    rec.total_steps = total_steps;
    rec.lr = lr;
    rec.loss = loss_sum;
    rec.epoch = epoch;
    auto ts = task_sum.accessor<double, 1>();
    for (int j = 0; j < kNumTasks; ++j)
      rec.task_loss[static_cast<size_t>(j)] = totals.has_task(j) ? ts[j] : std::numeric_limits<double>::quiet_NaN();
    rec.sigma = weighting->sigma();
    rec.tokens_per_s = train_seconds > 0 ? static_cast<double>(run_tokens) / train_seconds : 0;
    rec.padding_share = 1.0 - static_cast<double>(rec.tokens) / static_cast<double>(rec.padded_tokens);
    metrics.append({{"step", step},
                    {"epoch", epoch},
                    {"lr", lr},
                    {"loss", loss_sum},
                    {"loss_init", finite_or_null(rec.task_loss[0])},
                    {"loss_exp", finite_or_null(rec.task_loss[1])},
                    {"loss_agg", finite_or_null(rec.task_loss[2])},
                    {"sigma_init", rec.sigma[0]},
                    {"sigma_exp", rec.sigma[1]},
                    {"sigma_agg", rec.sigma[2]},
                    {"tokens", rec.tokens},
                    {"target_tokens", rec.target_tokens},
                    {"total_tokens", st.tokens},
                    {"tokens_per_s", rec.tokens_per_s},
                    {"padding_share", rec.padding_share}});
    auto show = [](double v) { return std::isfinite(v) ? fmt("%.3f", v) : std::string("-"); };
    progress.add(1, "loss " + fmt("%.3f", loss_sum) + " [init " + show(rec.task_loss[0]) + " exp " +
                        show(rec.task_loss[1]) + " agg " + show(rec.task_loss[2]) + "] sigma " +
                        fmt("%.2f", rec.sigma[0]) + "/" + fmt("%.2f", rec.sigma[1]) + "/" + fmt("%.2f", rec.sigma[2]) +
                        " " + fmt("%.0f", rec.tokens_per_s) + " tok/s");
    if (on_step) on_step(rec);
    result.last_loss = loss_sum;
    result.last_task_loss = rec.task_loss;

    bool last = st.step == stop_at;
    if (last || (cfg.checkpoint_every > 0 && st.step % cfg.checkpoint_every == 0))
      checkpoint_write(cfg.out_dir, model, weighting, optimizer, st, fingerprint);
  }
  progress.finish();
  if (cfg.quiet) Progress::set_quiet(false);

  result.steps = st.step;
  result.tokens = st.tokens;
  result.target_tokens = st.target_tokens;
  result.padded_tokens = st.padded_tokens;
  result.seconds = train_seconds;
  result.cpu_seconds = cpu_seconds;
  result.tokens_per_s = train_seconds > 0 ? static_cast<double>(run_tokens) / train_seconds : 0;
  result.padding_share =
      st.padded_tokens > 0 ? 1.0 - static_cast<double>(st.tokens) / static_cast<double>(st.padded_tokens) : 0;
  result.sigma = weighting->sigma();
  result.finished = st.step >= total_steps;
  result.peak_rss_mb = peak_rss_mb();
  train_write_plots(cfg.out_dir);
  if (result.finished && cfg.write_model) {
    result.model_out = (fs::path(cfg.out_dir) / "model").string();
    llama_save(model, result.model_out, read_file((fs::path(cfg.model_dir) / "tokenizer.json").string()));
  }
  nlohmann::json summary = {{"steps", result.steps},
                            {"total_steps", result.total_steps},
                            {"tokens", result.tokens},
                            {"target_tokens", result.target_tokens},
                            {"padding_share", result.padding_share},
                            {"seconds", result.seconds},
                            {"tokens_per_s", result.tokens_per_s},
                            {"cpu_seconds", result.cpu_seconds},
                            {"peak_rss_mb", result.peak_rss_mb},
                            {"sigma", {{"init", result.sigma[0]}, {"exp", result.sigma[1]}, {"agg", result.sigma[2]}}},
                            {"finished", result.finished}};
  write_json_atomic((fs::path(cfg.out_dir) / "summary.json").string(), summary);
  return result;
}

}  // namespace steper
