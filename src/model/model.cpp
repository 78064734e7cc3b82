// Model folders as text generators: loading, and generate / generate_ids on the model's DecodeEngine.
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
#include "model/lora.h"
#include "model/model_impl.h"

namespace steper {

namespace {
constexpr int kMaxBatch = 16;  // sequences decoded together by generate / generate_ids
}  // namespace

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
  static const auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));  // looked up once
  if (fn) fn(n);
  return n;
}

int blas_threads_get() {
  using GetFn = int (*)();
  static const auto fn = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn ? fn() : 0;
}

// ---------------------------------------------------------------------------------------------
// loading

std::unique_ptr<LanguageModel> LanguageModel::load(const std::string& dir, const std::string& device,
                                                   const std::string& adapter) {
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
  if (!adapter.empty()) LoraAdapters::load(adapter, impl->model->config(), impl->device).merge_into(impl->model);
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
  std::unique_ptr<LanguageModel> lm(new LanguageModel(std::move(impl)));
  lm->impl_->engine = std::make_unique<DecodeEngine>(*lm, kMaxBatch);
  lm->impl_->engine->set_prefix_reuse(true);
  return lm;
}

LanguageModel::LanguageModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LanguageModel::~LanguageModel() = default;

std::string LanguageModel::name() const { return impl_->dir; }
const Tokenizer& LanguageModel::tokenizer() const { return impl_->tokenizer; }
int64_t LanguageModel::context() const { return impl_->model->config().max_position_embeddings; }
int64_t LanguageModel::prompt_tokens(const std::string& prompt) const {
  return static_cast<int64_t>(impl_->tokenizer.encode(prompt, true).size());
}

// ---------------------------------------------------------------------------------------------
// decoding: every request goes through the model's DecodeEngine (decode_engine.h)

namespace {

// Submits every request, steps the engine until all are done; results in request order.
std::vector<DecodeResult> engine_run(LanguageModel::Impl& m, std::vector<DecodeRequest> requests) {
  std::lock_guard<std::mutex> lock(m.engine_mu);
  DecodeEngine& engine = *m.engine;
  std::vector<DecodeResult> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i)
    requests[i].on_done = [&out, i](const DecodeResult& r) { out[i] = r; };
  for (auto& r : requests) engine.submit(std::move(r));
  engine.run();
  return out;
}
}  // namespace

std::vector<std::vector<int32_t>> LanguageModel::generate_ids(const std::vector<std::vector<int32_t>>& prompts,
                                                              const TokenGenerateOptions& opts) {
  torch::InferenceMode guard;
  for (const auto& p : prompts) prompt_check(*impl_, p, opts.max_tokens);  // all refused before any runs
  std::vector<DecodeResult> res;
  if (!opts.use_cache) {
    res = decode_recompute(*impl_, prompts, opts);
  } else {
    std::vector<DecodeRequest> requests(prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      requests[i].prompt = prompts[i];
      requests[i].opts = opts;
    }
    res = engine_run(*impl_, std::move(requests));
  }
  std::vector<std::vector<int32_t>> out;
  out.reserve(res.size());
  for (auto& r : res) out.push_back(std::move(r.ids));
  return out;
}

std::vector<GenerateResult> LanguageModel::generate(const std::vector<GenerateRequest>& requests) {
  torch::InferenceMode guard;
  std::vector<DecodeRequest> reqs(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const GenerateRequest& g = requests[i];
    DecodeRequest& r = reqs[i];
    r.prompt = impl_->tokenizer.encode(g.prompt, true);
    prompt_check(*impl_, r.prompt, g.max_tokens);
    r.opts.max_tokens = g.max_tokens;
    r.opts.temperature = g.temperature;
    r.opts.top_p = g.top_p;
    r.opts.seed = g.seed;
    r.opts.stop = g.stop;
    r.cache_key = g.cache_key;
  }
  std::vector<DecodeResult> res = engine_run(*impl_, std::move(reqs));
  std::vector<GenerateResult> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    out[i].text = std::move(res[i].text);
    out[i].prompt_tokens = res[i].prompt_tokens;
    out[i].completion_tokens = static_cast<int>(res[i].ids.size());
  }
  return out;
}

void LanguageModel::set_prefix_reuse(bool on, size_t max_tokens) { impl_->engine->set_prefix_reuse(on, max_tokens); }
void LanguageModel::release(const std::string& cache_key) { impl_->engine->release(cache_key); }
DecodeEngine& LanguageModel::engine() { return *impl_->engine; }

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
