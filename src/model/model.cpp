// Model folders as text generators: batched decoding of left-padded prompts with a KV cache,
// greedy or temperature/top-p sampling, stop strings and end-of-sequence tokens.
#include "model/model.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <numeric>
#include <random>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "model/llama.h"

namespace steper {

struct LanguageModel::Impl {
  std::string dir;
  torch::Device device = torch::kCPU;
  Llama model{nullptr};
  Tokenizer tokenizer;
  std::set<int64_t> eos_ids;
  int64_t pad_id = 0;
};

void torch_threads_set(int n) { torch::set_num_threads(std::max(1, n)); }

// Found at run time so that a libtorch built on another BLAS still links.
int blas_threads_set(int requested) {
  int n = requested;
  if (n <= 0) {
    const char* env = std::getenv("OPENBLAS_NUM_THREADS");
    n = env ? std::atoi(env) : 0;
  }
  if (n <= 0) n = static_cast<int>(std::max(1u, std::min(8u, std::thread::hardware_concurrency())));
  using SetFn = void (*)(int);
  if (auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
  return n;
}

// ---------------------------------------------------------------------------------------------
// loading

std::unique_ptr<LanguageModel> LanguageModel::load(const std::string& dir, const std::string& device) {
  namespace fs = std::filesystem;
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  try {
    impl->device = torch::Device(device);
  } catch (const std::exception&) {
    throw Error("device \"" + device + "\" is not one of cpu, cuda, cuda:N");
  }
  if (impl->device.is_cuda() && !torch::cuda::is_available())
    throw Error("device \"" + device + "\": this build of libtorch sees no CUDA device");
  impl->model = llama_load(dir, impl->device);
  impl->model->eval();
  const std::string tok_path = (fs::path(dir) / "tokenizer.json").string();
  if (!fs::exists(tok_path)) throw Error(dir + ": missing tokenizer.json");
  impl->tokenizer = Tokenizer::from_file(tok_path);
  const LlamaConfig& cfg = impl->model->config();
  for (int64_t id : cfg.eos_token_ids) impl->eos_ids.insert(id);
  const std::string gen_path = (fs::path(dir) / "generation_config.json").string();
  if (fs::exists(gen_path)) {
    nlohmann::json gen = read_json(gen_path);
    if (!gen.is_object()) throw Error(gen_path + ": expected a JSON object");
    const int64_t last = cfg.vocab_size - 1;
    if (const nlohmann::json* eos = json_find(gen, "eos_token_id")) {
      if (eos->is_array()) {
        for (size_t i = 0; i < eos->size(); ++i)
          impl->eos_ids.insert(json_as_int((*eos)[i], "eos_token_id[" + std::to_string(i) + "]", gen_path, 0, last));
      } else {
        impl->eos_ids.insert(json_as_int(*eos, "eos_token_id", gen_path, 0, last));
      }
    }
  }
  if (impl->eos_ids.empty() && impl->tokenizer.eos_id() >= 0) impl->eos_ids.insert(impl->tokenizer.eos_id());
  if (impl->tokenizer.vocab_size() > static_cast<size_t>(cfg.vocab_size))
    throw Error(dir + ": tokenizer.json has " + std::to_string(impl->tokenizer.vocab_size()) +
                " tokens but config.json says vocab_size " + std::to_string(cfg.vocab_size));
  if (!impl->eos_ids.empty()) impl->pad_id = *impl->eos_ids.begin();
  return std::unique_ptr<LanguageModel>(new LanguageModel(std::move(impl)));
}

LanguageModel::LanguageModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LanguageModel::~LanguageModel() = default;

std::string LanguageModel::name() const { return impl_->dir; }
const Tokenizer& LanguageModel::tokenizer() const { return impl_->tokenizer; }

// ---------------------------------------------------------------------------------------------
// decoding

namespace {

struct RowSettings {
  int max_tokens = 64;
  float temperature = 0.0f;
  float top_p = 1.0f;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool stop_at_eos = true;
};

struct RowState {
  std::vector<int32_t> out;
  std::mt19937_64 rng;
  bool done = false;
};

// The next token from one row of logits (float, on the CPU).
int64_t token_pick(const float* logits, int64_t vocab, const RowSettings& s, std::mt19937_64& rng) {
  if (s.temperature <= 0.0f) return std::max_element(logits, logits + vocab) - logits;
  std::vector<double> p(static_cast<size_t>(vocab));
  double mx = *std::max_element(logits, logits + vocab);
  double z = 0;
  for (int64_t i = 0; i < vocab; ++i) z += p[i] = std::exp((logits[i] - mx) / s.temperature);
  for (double& x : p) x /= z;
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  double keep_mass = 1.0;
  size_t keep = order.size();
  if (s.top_p < 1.0f) {
    // Smallest set of most likely tokens whose mass reaches top_p (at least one token).
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    double mass = 0;
    for (keep = 0; keep < order.size();) {
      mass += p[order[keep++]];
      if (mass >= s.top_p) break;
    }
    keep_mass = mass;
  }
  double r = std::uniform_real_distribution<double>(0.0, keep_mass)(rng);
  for (size_t i = 0; i < keep; ++i) {
    r -= p[order[i]];
    if (r <= 0) return order[i];
  }
  return order[keep - 1];
}

// Position of the earliest stop string in text, or npos.
size_t stop_find(const std::string& text, const std::vector<std::string>& stops) {
  size_t best = std::string::npos;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    size_t at = text.find(s);
    if (at != std::string::npos && (best == std::string::npos || at < best)) best = at;
  }
  return best;
}

}  // namespace

// Decodes a batch of prompts together: left-padded, with key_valid marking the real tokens. Finished rows
// leave the batch (their cache rows are dropped) so long and short requests share work fairly.
static std::vector<std::vector<int32_t>> decode_batch(LanguageModel::Impl& m,
                                                      const std::vector<std::vector<int32_t>>& prompts,
                                                      const std::vector<RowSettings>& settings, bool use_cache) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  const int64_t vocab = m.model->config().vocab_size;
  const int64_t context = m.model->config().max_position_embeddings;
  std::vector<RowState> rows(B);
  std::vector<int64_t> limit(B);  // new tokens a row may take: its max_tokens, capped by the context
  int64_t Tmax = 0;
  for (int64_t b = 0; b < B; ++b) {
    if (prompts[b].empty()) throw Error(m.dir + ": cannot generate from an empty prompt");
    for (int32_t id : prompts[b])
      if (id < 0 || id >= vocab)
        throw Error(m.dir + ": token id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(vocab));
    const int64_t n = static_cast<int64_t>(prompts[b].size());
    if (n >= context && settings[b].max_tokens > 0)
      throw Error(m.dir + ": a prompt of " + std::to_string(n) + " tokens leaves no room in the model's context of " +
                  std::to_string(context) + " tokens (max_position_embeddings)");
    Tmax = std::max<int64_t>(Tmax, n);
    limit[b] = std::min<int64_t>(settings[b].max_tokens, context - n);
    rows[b].rng.seed(settings[b].seed);
    rows[b].done = limit[b] <= 0;
  }
  torch::Tensor ids = torch::full({B, Tmax}, m.pad_id, torch::kLong);
  torch::Tensor valid = torch::zeros({B, Tmax}, torch::kBool);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = static_cast<int64_t>(prompts[b].size()), pad = Tmax - n;
    auto acc = ids.accessor<int64_t, 2>();
    for (int64_t t = 0; t < n; ++t) acc[b][pad + t] = prompts[b][t];
    valid[b].narrow(0, pad, n).fill_(true);
  }
  std::vector<int64_t> active;  // row numbers still in the batch, in batch order
  for (int64_t b = 0; b < B; ++b)
    if (!rows[b].done) active.push_back(b);
  if (active.empty()) return std::vector<std::vector<int32_t>>(B);

  auto keep_rows = [&](const std::vector<int64_t>& idx) {
    return torch::tensor(idx, torch::kLong);
  };
  {
    torch::Tensor sel = keep_rows(active);
    ids = ids.index_select(0, sel);
    valid = valid.index_select(0, sel);
  }
  torch::Tensor ids_dev = ids.to(m.device), valid_dev = valid.to(m.device);
  KVCache cache;
  torch::Tensor hidden = m.model->forward_hidden(ids_dev, use_cache ? &cache : nullptr, valid_dev);
  torch::Tensor logits = m.model->logits(hidden.select(1, -1));  // [active, V]

  while (!active.empty()) {
    torch::Tensor cpu = logits.to(torch::kCPU, torch::kFloat).contiguous();
    std::vector<int64_t> next(active.size());
    std::vector<int64_t> still;  // positions within `active` that continue
    for (size_t i = 0; i < active.size(); ++i) {
      const int64_t b = active[i];
      RowState& r = rows[b];
      const RowSettings& s = settings[b];
      int64_t tok = token_pick(cpu.data_ptr<float>() + i * vocab, vocab, s, r.rng);
      next[i] = tok;
      if (s.stop_at_eos && m.eos_ids.count(tok)) {
        r.done = true;
        continue;
      }
      r.out.push_back(static_cast<int32_t>(tok));
      if (static_cast<int64_t>(r.out.size()) >= limit[b]) r.done = true;
      if (!s.stop.empty() && stop_find(m.tokenizer.decode(r.out, true), s.stop) != std::string::npos) r.done = true;
      if (!r.done) still.push_back(static_cast<int64_t>(i));
    }
    if (still.empty()) break;
    torch::Tensor next_t = torch::tensor(next, torch::kLong).unsqueeze(1);
    if (still.size() != active.size()) {
      torch::Tensor sel = keep_rows(still);
      torch::Tensor sel_dev = sel.to(m.device);
      next_t = next_t.index_select(0, sel);
      valid_dev = valid_dev.index_select(0, sel_dev);
      ids_dev = ids_dev.index_select(0, sel_dev);
      for (size_t l = 0; l < cache.k.size(); ++l) {
        cache.k[l] = cache.k[l].index_select(0, sel_dev);
        cache.v[l] = cache.v[l].index_select(0, sel_dev);
      }
      std::vector<int64_t> kept;
      for (int64_t i : still) kept.push_back(active[i]);
      active = kept;
    }
    torch::Tensor next_dev = next_t.to(m.device);
    valid_dev = torch::cat({valid_dev, torch::ones({valid_dev.size(0), 1}, valid_dev.options())}, 1);
    if (use_cache) {
      hidden = m.model->forward_hidden(next_dev, &cache, valid_dev);
    } else {
      ids_dev = torch::cat({ids_dev, next_dev}, 1);
      hidden = m.model->forward_hidden(ids_dev, nullptr, valid_dev);
    }
    logits = m.model->logits(hidden.select(1, -1));
  }
  std::vector<std::vector<int32_t>> out(B);
  for (int64_t b = 0; b < B; ++b) out[b] = std::move(rows[b].out);
  return out;
}

namespace {
constexpr size_t kMaxBatch = 16;

// Runs decode_batch over chunks of similar-length prompts, results in the original order.
std::vector<std::vector<int32_t>> decode_all(LanguageModel::Impl& m, const std::vector<std::vector<int32_t>>& prompts,
                                             const std::vector<RowSettings>& settings, bool use_cache) {
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return prompts[a].size() < prompts[b].size(); });
  std::vector<std::vector<int32_t>> out(prompts.size());
  for (size_t start = 0; start < order.size(); start += kMaxBatch) {
    size_t end = std::min(order.size(), start + kMaxBatch);
    std::vector<std::vector<int32_t>> chunk;
    std::vector<RowSettings> chunk_settings;
    for (size_t i = start; i < end; ++i) {
      chunk.push_back(prompts[order[i]]);
      chunk_settings.push_back(settings[order[i]]);
    }
    auto res = decode_batch(m, chunk, chunk_settings, use_cache);
    for (size_t i = start; i < end; ++i) out[order[i]] = std::move(res[i - start]);
  }
  return out;
}
}  // namespace

std::vector<std::vector<int32_t>> LanguageModel::generate_ids(const std::vector<std::vector<int32_t>>& prompts,
                                                              const TokenGenerateOptions& opts) {
  torch::InferenceMode guard;
  RowSettings s;
  s.max_tokens = opts.max_tokens;
  s.temperature = opts.temperature;
  s.top_p = opts.top_p;
  s.seed = opts.seed;
  s.stop = opts.stop;
  s.stop_at_eos = opts.stop_at_eos;
  std::vector<RowSettings> settings(prompts.size(), s);
  return decode_all(*impl_, prompts, settings, opts.use_cache);
}

std::vector<GenerateResult> LanguageModel::generate(const std::vector<GenerateRequest>& requests) {
  torch::InferenceMode guard;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<RowSettings> settings;
  for (const auto& r : requests) {
    prompts.push_back(impl_->tokenizer.encode(r.prompt, true));
    RowSettings s;
    s.max_tokens = r.max_tokens;
    s.temperature = r.temperature;
    s.top_p = r.top_p;
    s.seed = r.seed;
    s.stop = r.stop;
    settings.push_back(s);
  }
  auto ids = decode_all(*impl_, prompts, settings, true);
  std::vector<GenerateResult> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    std::string text = impl_->tokenizer.decode(ids[i], true);
    size_t at = stop_find(text, requests[i].stop);
    if (at != std::string::npos) text.resize(at);
    out[i].text = std::move(text);
    out[i].prompt_tokens = static_cast<int>(prompts[i].size());
    out[i].completion_tokens = static_cast<int>(ids[i].size());
  }
  return out;
}

std::vector<float> LanguageModel::next_token_logits(const std::vector<int32_t>& ids) {
  torch::InferenceMode guard;
  if (ids.empty()) throw Error(impl_->dir + ": next_token_logits needs at least one token");
  std::vector<int64_t> ids64(ids.begin(), ids.end());
  torch::Tensor t = torch::tensor(ids64, torch::kLong).unsqueeze(0).to(impl_->device);
  torch::Tensor logits = impl_->model->logits(impl_->model->forward_hidden(t).select(1, -1))[0];
  torch::Tensor cpu = logits.to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
}

}  // namespace steper
