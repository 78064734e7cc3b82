// Continuous batching: one left-padded batch whose rows have their own lengths (key_valid marks each row's
// real keys), new requests prefilled one by one and merged in at a step, finished rows dropped; the prefix cache of
// recent prompts; sampling, stop strings and end-of-sequence handling shared with the reference decoder.
#include "model/decode_engine.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <numeric>
#include <random>
#include <unordered_set>

#include "core/error.h"
#include "model/model_impl.h"

namespace steper {

// ---------------------------------------------------------------------------------------------
// sampling and stopping

namespace {

// The next token from one row of logits (float, on the CPU): greedy, or temperature with top-p.
int64_t token_pick(const float* logits, int64_t vocab, const TokenGenerateOptions& s, std::mt19937_64& rng) {
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

// The log-probability of tok (log_softmax of the logits) and the k most likely tokens.
TokenLogprob token_logprob(const float* logits, int64_t vocab, int64_t tok, int k) {
  const double mx = *std::max_element(logits, logits + vocab);
  double z = 0;
  for (int64_t i = 0; i < vocab; ++i) z += std::exp(static_cast<double>(logits[i]) - mx);
  const double lse = mx + std::log(z);
  TokenLogprob lp;
  lp.id = static_cast<int32_t>(tok);
  lp.logprob = static_cast<float>(logits[tok] - lse);
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  const int64_t n = std::min<int64_t>(std::max(k, 0), vocab);
  std::partial_sort(order.begin(), order.begin() + n, order.end(),
                    [&](int64_t a, int64_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  for (int64_t i = 0; i < n; ++i)
    lp.top.emplace_back(static_cast<int32_t>(order[i]), static_cast<float>(logits[order[i]] - lse));
  return lp;
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

// One sequence being decoded.
struct Row {
  uint64_t id = 0;
  DecodeRequest req;
  int64_t limit = 0;  // new tokens it may take
  std::mt19937_64 rng;
  DecodeResult result;
  size_t text_sent = 0;  // bytes of decoded text already passed to on_token
  int64_t pending = 0;   // the last token picked, not yet in the cache
  bool done = false;
  double submitted = 0;  // steady-clock seconds at submit()
};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool ends_in_partial_utf8(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;  // the replacement character
}

// Takes one sampled token (and its log-probability, when asked) into the row; sets done (and the finish
// reason) when the row ends.
void row_take(const LanguageModel::Impl& m, Row& r, int64_t tok, const TokenLogprob* lp) {
  const TokenGenerateOptions& o = r.req.opts;
  if (o.stop_at_eos && m.eos_ids.count(tok)) {
    r.done = true;
    r.result.finish_reason = "stop";
    return;
  }
  r.result.ids.push_back(static_cast<int32_t>(tok));
  if (lp) {
    r.result.logprobs.push_back(*lp);
    if (r.req.on_logprob) r.req.on_logprob(*lp);
  }
  if (r.req.on_token || !o.stop.empty()) {
    const std::string text = m.tokenizer.decode(r.result.ids, true);
    const size_t at = stop_find(text, o.stop);
    if (r.req.on_token) {
      const size_t upto = at != std::string::npos ? at : ends_in_partial_utf8(text) ? r.text_sent : text.size();
      std::string piece = upto > r.text_sent ? text.substr(r.text_sent, upto - r.text_sent) : "";
      r.text_sent = std::max(r.text_sent, upto);
      if (!r.req.on_token(static_cast<int32_t>(tok), piece)) {
        r.done = true;
        r.result.finish_reason = "cancelled";
        return;
      }
    }
    if (at != std::string::npos) {
      r.done = true;
      r.result.finish_reason = "stop";
      return;
    }
  }
  if (static_cast<int64_t>(r.result.ids.size()) >= r.limit) {
    r.done = true;
    r.result.finish_reason = "length";
  }
}

// Picks the row's next token from its logits and takes it; returns the token.
int64_t row_pick(const LanguageModel::Impl& m, Row& r, const float* logits, int64_t vocab) {
  const int64_t tok = token_pick(logits, vocab, r.req.opts, r.rng);
  if (r.req.logprobs < 0) {
    row_take(m, r, tok, nullptr);
  } else {
    const TokenLogprob lp = token_logprob(logits, vocab, tok, r.req.logprobs);
    row_take(m, r, tok, &lp);
  }
  return tok;
}

// The final text: decoded ids cut before the first stop string.
void row_finish(const LanguageModel::Impl& m, Row& r) {
  std::string text = m.tokenizer.decode(r.result.ids, true);
  const size_t at = stop_find(text, r.req.opts.stop);
  if (at != std::string::npos) text.resize(at);
  r.result.text = std::move(text);
  if (r.result.finish_reason.empty()) r.result.finish_reason = "length";
}

// One BLAS thread while it lives (when on): a small model's decoding-step products (a row per sequence) are too
// small to split between threads, and a split product waits for its slower half, which on a busy machine is
// often off the CPU (measured on d=128 in bench/rag). Wider models keep their threads: kOneThreadBelowWidth.
constexpr int64_t kOneThreadBelowWidth = 1024;  // hidden sizes below it decode on one BLAS thread
class OneBlasThread {
 public:
  explicit OneBlasThread(bool on) : before_(on ? blas_threads_get() : 0) {
    if (before_ > 1) blas_threads_set(1);
  }
  ~OneBlasThread() {
    if (before_ > 1) blas_threads_set(before_);
  }
  OneBlasThread(const OneBlasThread&) = delete;
  OneBlasThread& operator=(const OneBlasThread&) = delete;

 private:
  int before_;
};

torch::Tensor logits_cpu(LanguageModel::Impl& m, const torch::Tensor& hidden_last) {
  return m.model->logits(hidden_last).to(torch::kCPU, torch::kFloat).contiguous();
}

}  // namespace

int64_t prompt_check(const LanguageModel::Impl& m, const std::vector<int32_t>& prompt, int max_tokens) {
  const int64_t vocab = m.model->config().vocab_size;
  const int64_t context = m.model->config().max_position_embeddings;  // LanguageModel::context()
  if (prompt.empty()) throw Error(m.dir + ": cannot generate from an empty prompt");
  for (int32_t id : prompt)
    if (id < 0 || id >= vocab)
      throw Error(m.dir + ": token id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(vocab));
  const int64_t n = static_cast<int64_t>(prompt.size());
  if (n >= context && max_tokens > 0)
    throw Error(m.dir + ": a prompt of " + std::to_string(n) + " tokens leaves no room in the model's context of " +
                std::to_string(context) + " tokens (max_position_embeddings)");
  return std::max<int64_t>(0, std::min<int64_t>(max_tokens, context - n));
}

std::vector<DecodeResult> decode_recompute(LanguageModel::Impl& m, const std::vector<std::vector<int32_t>>& prompts,
                                           const TokenGenerateOptions& opts) {
  for (const auto& p : prompts) prompt_check(m, p, opts.max_tokens);
  std::vector<DecodeResult> out;
  for (const auto& p : prompts) {
    Row r;
    r.req.prompt = p;
    r.req.opts = opts;
    r.limit = prompt_check(m, p, opts.max_tokens);
    r.rng.seed(opts.seed);
    r.done = r.limit <= 0;
    std::vector<int64_t> seq(p.begin(), p.end());
    while (!r.done) {
      torch::Tensor ids = torch::tensor(seq, torch::kLong).unsqueeze(0).to(m.device);
      torch::Tensor cpu = logits_cpu(m, m.model->forward_hidden(ids).select(1, -1));
      seq.push_back(row_pick(m, r, cpu.data_ptr<float>(), cpu.size(1)));
    }
    row_finish(m, r);
    r.result.prompt_tokens = static_cast<int>(p.size());
    out.push_back(std::move(r.result));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the prefix cache

namespace {

struct PrefixEntry {
  std::string key;
  std::vector<int32_t> ids;
  std::vector<torch::Tensor> k, v;  // per layer [1, KV, ids.size(), hd]
  uint64_t used = 0;
};

class PrefixCache {
 public:
  bool enabled = false;
  size_t max_tokens = 65536;  // prompt tokens kept, all entries together

  // The entry sharing the longest token prefix with ids, and that length (0 and nullptr when none).
  std::pair<PrefixEntry*, size_t> longest(const std::vector<int32_t>& ids) {
    PrefixEntry* best = nullptr;
    size_t best_n = 0;
    if (!enabled) return {nullptr, 0};
    for (auto& e : entries_) {
      const size_t lim = std::min(e.ids.size(), ids.size());
      size_t n = 0;
      while (n < lim && e.ids[n] == ids[n]) ++n;
      if (n > best_n) best = &e, best_n = n;
    }
    if (best) best->used = ++clock_;
    return {best, best_n};
  }
  void put(PrefixEntry e) {
    if (!enabled || e.key.empty()) return;
    release(e.key);
    e.used = ++clock_;
    tokens_ += e.ids.size();
    entries_.push_back(std::move(e));
    while (tokens_ > max_tokens && !entries_.empty()) {
      auto lru = std::min_element(entries_.begin(), entries_.end(),
                                  [](const PrefixEntry& a, const PrefixEntry& b) { return a.used < b.used; });
      tokens_ -= lru->ids.size();
      entries_.erase(lru);
    }
  }
  void release(const std::string& key) {
    for (const auto& e : entries_)
      if (e.key == key) tokens_ -= e.ids.size();
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const PrefixEntry& e) { return e.key == key; }),
                   entries_.end());
  }
  void clear() {
    entries_.clear();
    tokens_ = 0;
  }
  size_t size() const { return entries_.size(); }

 private:
  std::deque<PrefixEntry> entries_;
  size_t tokens_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// the engine

struct DecodeEngine::Impl {
  LanguageModel::Impl& m;
  int max_batch;
  mutable std::mutex mu;  // guards waiting, cancelled, next_id, stats
  std::deque<Row> waiting;
  std::unordered_set<uint64_t> cancelled;
  uint64_t next_id = 1;
  Stats stats;

  // stepping thread only
  std::vector<Row> active;  // in batch order
  KVCache cache;            // [active, KV, T, hd] per layer
  torch::Tensor valid;      // [active, T] bool: each row's real keys
  int padded = -1;          // whether valid has a false entry (-1: not known since the batch changed)
  PrefixCache prefix;

  Impl(LanguageModel::Impl& model, int b) : m(model), max_batch(std::max(1, b)) {
    stats.batch_size_counts.assign(static_cast<size_t>(max_batch) + 1, 0);
  }

  KVCache prefill(Row& row);
  void admit(std::vector<Row>& fresh, KVCache& fresh_cache, torch::Tensor& fresh_valid);
  void decode_active();
  void merge(std::vector<Row>& fresh, KVCache& fresh_cache, torch::Tensor& fresh_valid);
  void retire();
  void done(Row& r);
};

namespace {

// The log-probability of each prompt token after the first, from the prompt's logits [prompt, vocab].
void prompt_score(Row& row, const torch::Tensor& logits) {
  const auto& p = row.req.prompt;
  const int64_t vocab = logits.size(1);
  for (size_t i = 1; i < p.size(); ++i)
    row.result.prompt_logprobs.push_back(
        token_logprob(logits.data_ptr<float>() + (i - 1) * vocab, vocab, p[i], row.req.prompt_logprobs));
}

// [B, KV, T', hd] (all columns used) left-padded with zero keys up to T columns (dim 2).
torch::Tensor pad_left(const torch::Tensor& t, int64_t T) {
  const int64_t pad = T - t.size(2);
  if (pad <= 0) return t;
  auto shape = t.sizes().vec();
  shape[2] = pad;
  return torch::cat({torch::zeros(shape, t.options()), t}, 2);
}

torch::Tensor pad_left_valid(const torch::Tensor& v, int64_t T) {
  const int64_t pad = T - v.size(1);
  if (pad <= 0) return v;
  return torch::cat({torch::zeros({v.size(0), pad}, v.options()), v}, 1);
}

}  // namespace

void DecodeEngine::Impl::done(Row& r) {
  row_finish(m, r);
  {
    std::lock_guard<std::mutex> lock(mu);
    cancelled.erase(r.id);
  }
  if (r.req.on_done) r.req.on_done(r.result);
}

// Prefills one fresh row alone (no padding: a padded batch of long prompts costs more than the prompts one
// by one on a CPU), after the longest prefix the prefix cache holds of it; keeps its prompt under its key;
// picks its first token. Returns its cache [1, KV, prompt, hd] per layer.
KVCache DecodeEngine::Impl::prefill(Row& row) {
  const auto& p = row.req.prompt;
  const bool score_prompt = row.req.prompt_logprobs >= 0;  // needs every prompt position's logits
  auto [entry, shared] = score_prompt ? std::pair<PrefixEntry*, size_t>{nullptr, 0} : prefix.longest(p);
  const int64_t r = static_cast<int64_t>(std::min(shared, p.size() - 1));  // at least one token is computed
  KVCache c;
  if (entry && r > 0) {
    for (size_t l = 0; l < entry->k.size(); ++l) {
      c.k.push_back(entry->k[l].narrow(2, 0, r));
      c.v.push_back(entry->v[l].narrow(2, 0, r));
    }
    c.length = r;
  }
  row.result.reused_tokens = static_cast<int>(c.length);
  std::vector<int64_t> rest(p.begin() + c.length, p.end());
  torch::Tensor ids = torch::tensor(rest, torch::kLong).unsqueeze(0).to(m.device);
  torch::Tensor hidden = m.model->forward_hidden(ids, &c);
  if (score_prompt) prompt_score(row, logits_cpu(m, hidden[0]));
  torch::Tensor cpu = logits_cpu(m, hidden.select(1, -1));
  if (prefix.enabled && !row.req.cache_key.empty()) {
    PrefixEntry e;
    e.key = row.req.cache_key;
    e.ids = p;
    for (size_t l = 0; l < c.k.size(); ++l) {
      e.k.push_back(c.k[l].narrow(2, 0, c.length));
      e.v.push_back(c.v[l].narrow(2, 0, c.length));
    }
    prefix.put(std::move(e));
  }
  if (row.req.on_prefill) row.req.on_prefill(row.result);
  if (row.limit <= 0) {  // scored only
    row.done = true;
    row.result.finish_reason = "length";
    return c;
  }
  row.pending = row_pick(m, row, cpu.data_ptr<float>(), cpu.size(1));
  return c;
}

// Prefills the fresh rows and lays their caches out as one left-padded batch (fc, fv).
void DecodeEngine::Impl::admit(std::vector<Row>& fresh, KVCache& fc, torch::Tensor& fv) {
  std::vector<KVCache> caches;
  int64_t T = 0;
  for (Row& r : fresh) {
    caches.push_back(prefill(r));
    T = std::max(T, caches.back().length);
  }
  fc = KVCache();
  fc.length = T;
  for (size_t l = 0; l < caches[0].k.size(); ++l) {
    std::vector<torch::Tensor> ks, vs;
    for (const KVCache& c : caches) {
      ks.push_back(pad_left(c.k[l].narrow(2, 0, c.length), T));
      vs.push_back(pad_left(c.v[l].narrow(2, 0, c.length), T));
    }
    fc.k.push_back(torch::cat(ks, 0));
    fc.v.push_back(torch::cat(vs, 0));
  }
  std::vector<torch::Tensor> rows;
  for (const KVCache& c : caches)
    rows.push_back(pad_left_valid(torch::ones({1, c.length}, torch::TensorOptions().dtype(torch::kBool).device(m.device)), T));
  fv = torch::cat(rows, 0);
}

// Feeds every active row its pending token and picks the next one.
void DecodeEngine::Impl::decode_active() {
  if (active.empty()) return;
  std::vector<int64_t> pending;
  for (const Row& r : active) pending.push_back(r.pending);
  torch::Tensor ids = torch::tensor(pending, torch::kLong).unsqueeze(1).to(m.device);
  OneBlasThread one_thread(m.device.is_cpu() && m.model->config().hidden_size < kOneThreadBelowWidth);
  if (padded < 0) padded = valid.all().item<bool>() ? 0 : 1;
  valid = torch::cat({valid, torch::ones({valid.size(0), 1}, valid.options())}, 1);
  torch::Tensor hidden = m.model->forward_hidden(ids, &cache, padded ? valid : torch::Tensor());
  torch::Tensor cpu = logits_cpu(m, hidden.select(1, -1));
  for (size_t i = 0; i < active.size(); ++i)
    active[i].pending = row_pick(m, active[i], cpu.data_ptr<float>() + i * cpu.size(1), cpu.size(1));
}

// Drops finished rows from the batch (and key columns no remaining row uses).
void DecodeEngine::Impl::retire() {
  std::vector<int64_t> keep;
  for (size_t i = 0; i < active.size(); ++i) {
    if (active[i].done) done(active[i]);
    else keep.push_back(static_cast<int64_t>(i));
  }
  if (keep.size() == active.size()) return;
  std::vector<Row> rows;
  for (int64_t i : keep) rows.push_back(std::move(active[i]));
  active = std::move(rows);
  padded = -1;
  if (active.empty()) {
    cache = KVCache();
    valid = torch::Tensor();
    return;
  }
  torch::Tensor sel = torch::tensor(keep, torch::kLong).to(m.device);
  valid = valid.index_select(0, sel);
  for (size_t l = 0; l < cache.k.size(); ++l) {
    cache.k[l] = cache.k[l].index_select(0, sel);
    cache.v[l] = cache.v[l].index_select(0, sel);
  }
  // leading columns that are padding in every remaining row
  const int64_t first = valid.any(0).to(torch::kLong).argmax().item<int64_t>();
  if (first > 0) {
    const int64_t T = valid.size(1) - first;
    valid = valid.narrow(1, first, T);
    for (size_t l = 0; l < cache.k.size(); ++l) {
      cache.k[l] = cache.k[l].narrow(2, first, T);
      cache.v[l] = cache.v[l].narrow(2, first, T);
    }
    cache.length = T;
  }
}

// Appends the fresh rows that continue to the running batch, both caches left-padded to one length.
void DecodeEngine::Impl::merge(std::vector<Row>& fresh, KVCache& fc, torch::Tensor& fv) {
  std::vector<int64_t> keep;
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (fresh[i].done) done(fresh[i]);
    else keep.push_back(static_cast<int64_t>(i));
  }
  if (keep.empty()) return;
  if (keep.size() != fresh.size()) {
    torch::Tensor sel = torch::tensor(keep, torch::kLong).to(m.device);
    fv = fv.index_select(0, sel);
    for (size_t l = 0; l < fc.k.size(); ++l) {
      fc.k[l] = fc.k[l].index_select(0, sel);
      fc.v[l] = fc.v[l].index_select(0, sel);
    }
  }
  if (active.empty()) {
    cache = std::move(fc);
    valid = fv;
  } else {
    const int64_t T = std::max(cache.length, fc.length);
    valid = torch::cat({pad_left_valid(valid, T), pad_left_valid(fv, T)}, 0);
    for (size_t l = 0; l < cache.k.size(); ++l) {
      cache.k[l] = torch::cat({pad_left(cache.k[l].narrow(2, 0, cache.length), T), pad_left(fc.k[l], T)}, 0);
      cache.v[l] = torch::cat({pad_left(cache.v[l].narrow(2, 0, cache.length), T), pad_left(fc.v[l], T)}, 0);
    }
    cache.length = T;
  }
  for (int64_t i : keep) active.push_back(std::move(fresh[i]));
  padded = -1;
}

DecodeEngine::DecodeEngine(LanguageModel& model, int max_batch)
    : impl_(std::make_unique<Impl>(model.impl(), max_batch)) {}
DecodeEngine::~DecodeEngine() = default;

uint64_t DecodeEngine::submit(DecodeRequest r) {
  Row row;
  row.limit = prompt_check(impl_->m, r.prompt, r.opts.max_tokens);
  row.rng.seed(r.opts.seed);
  row.result.prompt_tokens = static_cast<int>(r.prompt.size());
  row.submitted = seconds_now();
  row.req = std::move(r);
  std::lock_guard<std::mutex> lock(impl_->mu);
  row.id = impl_->next_id++;
  impl_->waiting.push_back(std::move(row));
  return impl_->waiting.back().id;
}

void DecodeEngine::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (id > 0 && id < impl_->next_id) impl_->cancelled.insert(id);
}

int DecodeEngine::step() {
  torch::InferenceMode guard;
  Impl& I = *impl_;
  std::vector<Row> fresh;
  {
    std::lock_guard<std::mutex> lock(I.mu);
    for (Row& r : I.active)
      if (I.cancelled.count(r.id)) r.done = true, r.result.finish_reason = "cancelled";
    // cancelled requests leave the queue at once, wherever they wait
    for (auto it = I.waiting.begin(); it != I.waiting.end();) {
      if (!I.cancelled.count(it->id)) {
        ++it;
        continue;
      }
      it->done = true, it->result.finish_reason = "cancelled";
      fresh.push_back(std::move(*it));
      it = I.waiting.erase(it);
    }
    const double now = seconds_now();
    int admitted = 0;
    while (!I.waiting.empty() && static_cast<int>(I.active.size()) + admitted < I.max_batch) {
      fresh.push_back(std::move(I.waiting.front()));
      I.waiting.pop_front();
      ++admitted;
      Row& r = fresh.back();
      r.result.queue_seconds = now - r.submitted;
      if (r.limit <= 0 && r.req.prompt_logprobs < 0) r.done = true, r.result.finish_reason = "length";
    }
  }
  I.retire();  // cancelled rows leave before they cost a step
  std::vector<Row> prefill;
  for (Row& r : fresh) {
    if (r.done) I.done(r);
    else prefill.push_back(std::move(r));
  }
  uint64_t before = 0;
  for (const Row& r : I.active) before += r.result.ids.size();
  for (const Row& r : prefill) before += r.result.ids.size();
  const size_t got_token = I.active.size() + prefill.size();
  KVCache fc;
  torch::Tensor fv;
  const double t0 = seconds_now();
  if (!prefill.empty()) I.admit(prefill, fc, fv);
  const double t1 = seconds_now();
  I.decode_active();
  const double t2 = seconds_now();
  uint64_t after = 0;
  for (const Row& r : I.active) after += r.result.ids.size();
  for (const Row& r : prefill) after += r.result.ids.size();
  {
    std::lock_guard<std::mutex> lock(I.mu);
    if (got_token > 0) {
      I.stats.steps += 1;
      I.stats.batch_size_counts[got_token] += 1;
    }
    I.stats.tokens_generated += after - before;
    for (const Row& r : prefill) {
      I.stats.prompt_tokens += r.req.prompt.size();
      I.stats.reused_tokens += r.result.reused_tokens;
    }
  }
  I.retire();
  I.merge(prefill, fc, fv);
  std::lock_guard<std::mutex> lock(I.mu);
  I.stats.prefill_seconds += t1 - t0;
  I.stats.decode_seconds += t2 - t1;
  I.stats.layout_seconds += seconds_now() - t2;
  I.stats.active = static_cast<int>(I.active.size());
  I.stats.kept_prefixes = I.prefix.size();
  return static_cast<int>(I.active.size() + I.waiting.size());
}

void DecodeEngine::run() {
  while (step() > 0) {
  }
}

DecodeEngine::Stats DecodeEngine::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stats s = impl_->stats;
  s.waiting = static_cast<int>(impl_->waiting.size());
  return s;
}

void DecodeEngine::set_prefix_reuse(bool on, size_t max_tokens) {
  impl_->prefix.enabled = on;
  impl_->prefix.max_tokens = max_tokens;
  if (!on) impl_->prefix.clear();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stats.kept_prefixes = impl_->prefix.size();
}

void DecodeEngine::release(const std::string& cache_key) {
  impl_->prefix.release(cache_key);
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stats.kept_prefixes = impl_->prefix.size();
}

}  // namespace steper
