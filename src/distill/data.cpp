#include "distill/data.h"

#include "core/trace_file.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "core/error.h"
#include "core/io.h"
#include "core/trace_json.h"
#include "distill/examples.h"

namespace steper {

// ---- traces and examples ---------------------------------------------------------------------------

std::vector<Trace> load_traces(const std::string& path, TraceLoadStats* stats) {
  if (!file_exists(path)) throw Error(path + ": no such traces file (--traces)");
  TraceFile f = read_trace_file(path, true);
  if (stats) *stats = TraceLoadStats{f.lines, f.not_kept};
  return std::move(f.traces);
}

std::vector<StepExample> select_examples(std::vector<StepExample> examples, bool agg_only) {
  if (!agg_only) return examples;
  std::vector<StepExample> out;
  for (auto& e : examples)
    if (e.task == Task::kAgg) out.push_back(std::move(e));
  return out;
}

// ---- tokenization ----------------------------------------------------------------------------------

std::vector<TokenizedExample> tokenize_examples(const std::vector<StepExample>& examples, const EncodeFn& encode,
                                                const TokenizeOptions& opts, TokenizeStats* stats) {
  if (opts.max_len < 2) throw Error("--max-len must be at least 2 (got " + std::to_string(opts.max_len) + ")");
  std::vector<TokenizedExample> out;
  out.reserve(examples.size());
  TokenizeStats st;
  uint32_t trace = 0;
  for (size_t n = 0; n < examples.size(); ++n) {
    const StepExample& e = examples[n];
    // a new trace starts where the trace id changes, or where the steps start again (a repeated id)
    if (n > 0 && (example_trace_id(e.id) != example_trace_id(examples[n - 1].id) || e.step <= examples[n - 1].step))
      ++trace;
    std::vector<int32_t> prompt = encode(e.prompt, true);
    std::vector<int32_t> target = encode(e.target, false);
    if (opts.bos_id >= 0) prompt.insert(prompt.begin(), opts.bos_id);
    if (e.task == Task::kAgg && opts.eos_id >= 0) target.push_back(opts.eos_id);
    if (target.empty()) continue;  // nothing to score (an empty target sentence)
    // at least one prompt token must stay: the first target token is predicted from it
    if (static_cast<int64_t>(target.size()) + 1 > opts.max_len) {
      ++st.dropped_too_long;
      continue;
    }
    if (prompt.empty()) throw Error("example " + e.id + ": empty prompt");
    size_t room = static_cast<size_t>(opts.max_len) - target.size();
    size_t cut = prompt.size() > room ? prompt.size() - room : 0;
    if (cut > 0) ++st.truncated;
    TokenizedExample t;
    t.task = e.task;
    t.trace = trace;
    t.step = e.step;
    t.ids.reserve(prompt.size() - cut + target.size());
    t.ids.insert(t.ids.end(), prompt.begin() + static_cast<std::ptrdiff_t>(cut), prompt.end());
    t.target_start = static_cast<int32_t>(t.ids.size());
    t.ids.insert(t.ids.end(), target.begin(), target.end());
    st.prompt_tokens += static_cast<size_t>(t.target_start);
    st.target_tokens += target.size();
    st.per_task[static_cast<int>(e.task)]++;
    ++st.examples;
    out.push_back(std::move(t));
  }
  if (stats) *stats = st;
  return out;
}

// ---- batches ---------------------------------------------------------------------------------------

void shuffle_indices(std::vector<uint32_t>& v, uint64_t seed) {
  uint64_t state = seed;
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(splitmix64(state) % i);
    std::swap(v[i - 1], v[j]);
  }
}

namespace {

// Length-bucketed parts of one task's (or all) examples: sort within shuffled chunks, fill greedily.
std::vector<Batch> plan_parts(const std::vector<BatchUnit>& data, std::vector<uint32_t> order, int64_t budget,
                              int chunk_batches) {
  std::vector<Batch> out;
  if (order.empty()) return out;
  double mean_len = 0;
  for (uint32_t i : order) mean_len += data[i].length;
  mean_len /= static_cast<double>(order.size());
  double per_batch = std::max(1.0, static_cast<double>(budget) / mean_len);
  size_t chunk = static_cast<size_t>(std::max(1.0, per_batch * std::max(1, chunk_batches)));
  for (size_t c0 = 0; c0 < order.size(); c0 += chunk) {
    size_t c1 = std::min(order.size(), c0 + chunk);
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(c0), order.begin() + static_cast<std::ptrdiff_t>(c1),
                     [&](uint32_t a, uint32_t b) { return data[a].length > data[b].length; });
    Batch cur;
    cur.parts.emplace_back();
    for (size_t k = c0; k < c1; ++k) {
      const BatchUnit& ex = data[order[k]];
      BatchPart& part = cur.parts[0];
      int32_t new_max = std::max(part.max_len, ex.length);
      if (!part.examples.empty() && static_cast<int64_t>(part.examples.size() + 1) * new_max > budget) {
        out.push_back(std::move(cur));
        cur = Batch();
        cur.parts.emplace_back();
        new_max = ex.length;
      }
      cur.parts[0].examples.push_back(order[k]);
      cur.parts[0].max_len = new_max;
      cur.tokens += ex.length;
      cur.target_tokens += ex.target_length;
    }
    if (!cur.parts[0].examples.empty()) out.push_back(std::move(cur));
  }
  return out;
}

}  // namespace

std::vector<BatchUnit> example_units(const std::vector<TokenizedExample>& data) {
  std::vector<BatchUnit> out;
  out.reserve(data.size());
  for (const auto& e : data) out.push_back({e.length(), e.target_length(), static_cast<int>(e.task)});
  return out;
}

std::vector<Batch> plan_epoch(const std::vector<BatchUnit>& data, int64_t epoch, const BatchOptions& opts) {
  if (opts.batch_tokens < 1) throw Error("--batch-tokens must be positive");
  std::vector<Batch> batches;
  if (data.empty()) return batches;

  uint64_t mix = opts.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(epoch) + 1;
  uint64_t order_seed = splitmix64(mix), batch_seed = splitmix64(mix);

  std::vector<uint32_t> order(data.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  shuffle_indices(order, order_seed);

  if (!opts.mix_tasks) {
    batches = plan_parts(data, order, opts.batch_tokens, opts.chunk_batches);
  } else {
    // G batches of about batch_tokens real tokens; each task's examples, sorted by length within
    // shuffled chunks, are cut into G consecutive parts of equal tokens, and batch g joins part g of
    // every task
    std::vector<uint32_t> by_task[3];
    double task_tokens[3] = {0, 0, 0}, all_tokens = 0;
    for (uint32_t i : order) {
      int j = data[i].task;
      if (j < 0 || j > 2) throw BugError(__FILE__, __LINE__, "mix_tasks with a unit of several tasks");
      by_task[j].push_back(i);
      task_tokens[j] += data[i].length;
      all_tokens += data[i].length;
    }
    auto groups = static_cast<size_t>(std::max(1.0, std::round(all_tokens / static_cast<double>(opts.batch_tokens))));
    batches.resize(groups);
    for (int j = 0; j < 3; ++j) {
      std::vector<uint32_t>& ex = by_task[j];
      if (ex.empty()) continue;
      size_t chunk = std::max<size_t>(1, ex.size() * static_cast<size_t>(std::max(1, opts.chunk_batches)) / groups);
      // chunks sorted alternately longest-first and shortest-first, so that a part straddling two
      // chunks joins examples of similar length
      for (size_t c0 = 0, k = 0; c0 < ex.size(); c0 += chunk, ++k) {
        size_t c1 = std::min(ex.size(), c0 + chunk);
        bool down = k % 2 == 0;
        std::stable_sort(ex.begin() + static_cast<std::ptrdiff_t>(c0), ex.begin() + static_cast<std::ptrdiff_t>(c1),
                         [&](uint32_t a, uint32_t b) {
                           return down ? data[a].length > data[b].length : data[a].length < data[b].length;
                         });
      }
      double cum = 0;
      for (uint32_t i : ex) {
        const BatchUnit& e = data[i];
        double mid = cum + 0.5 * e.length;
        cum += e.length;
        auto g = std::min(groups - 1, static_cast<size_t>(mid * static_cast<double>(groups) / task_tokens[j]));
        Batch& bt = batches[g];
        if (bt.parts.empty() || data[bt.parts.back().examples.front()].task != j)
          bt.parts.emplace_back();
        bt.parts.back().examples.push_back(i);
        bt.parts.back().max_len = std::max(bt.parts.back().max_len, e.length);
        bt.tokens += e.length;
        bt.target_tokens += e.target_length;
      }
    }
    std::vector<Batch> nonempty;
    for (auto& bt : batches)
      if (!bt.parts.empty()) nonempty.push_back(std::move(bt));
    batches = std::move(nonempty);
  }

  // batch order shuffled so lengths do not drift within an epoch
  std::vector<uint32_t> perm(batches.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<uint32_t>(i);
  shuffle_indices(perm, batch_seed);
  std::vector<Batch> ordered;
  ordered.reserve(batches.size());
  for (uint32_t i : perm) ordered.push_back(std::move(batches[i]));
  return ordered;
}

// ---- the run's stream of micro-batches -------------------------------------------------------------

const std::vector<Batch>& BatchStream::plan(int64_t e) {
  if (e != cached_epoch_) {
    cached_ = plan_epoch(data_, e, opts_);
    cached_epoch_ = e;
  }
  return cached_;
}

int64_t BatchStream::batches_in_epoch(int64_t e) { return static_cast<int64_t>(plan(e).size()); }

const Batch& BatchStream::at(int64_t g, int64_t* epoch) {
  if (g < 0) throw Error("micro-batch " + std::to_string(g) + " does not exist");
  while (ends_.empty() || ends_.back() <= g) {
    int64_t n = batches_in_epoch(static_cast<int64_t>(ends_.size()));
    if (n == 0) throw Error("no batches: every training example was filtered out");
    ends_.push_back((ends_.empty() ? 0 : ends_.back()) + n);
  }
  auto e = static_cast<int64_t>(std::distance(ends_.begin(), std::upper_bound(ends_.begin(), ends_.end(), g)));
  int64_t first = e == 0 ? 0 : ends_[static_cast<size_t>(e - 1)];
  if (epoch) *epoch = e;
  return plan(e)[static_cast<size_t>(g - first)];
}

int64_t plan_total_steps(BatchStream& stream, int grad_accum, std::optional<double> epochs,
                         std::optional<int64_t> steps, std::optional<int64_t> tokens) {
  const int64_t A = std::max(1, grad_accum);
  if (steps) return *steps;
  auto too_many = [](const std::string& budget) {
    return Error(budget + ": more than " + std::to_string(kMaxPlannedEpochs) +
                 " passes over the training examples; give a smaller budget");
  };
  if (tokens) {
    int64_t seen = 0, g = 0, n = 0, epoch = 0;
    while (seen < *tokens) {
      for (int64_t a = 0; a < A; ++a) seen += stream.at(g++, &epoch).tokens;
      if (epoch >= kMaxPlannedEpochs) throw too_many("--train-tokens " + std::to_string(*tokens));
      ++n;
    }
    return n;
  }
  if (epochs && !(*epochs <= static_cast<double>(kMaxPlannedEpochs))) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", *epochs);
    throw too_many(std::string("--epochs ") + buf);
  }
  const double e = epochs.value_or(1.0);
  const auto whole = static_cast<int64_t>(std::floor(e));
  int64_t micro = 0;
  for (int64_t k = 0; k < whole; ++k) micro += stream.batches_in_epoch(k);
  micro += static_cast<int64_t>(std::floor((e - static_cast<double>(whole)) *
                                           static_cast<double>(stream.batches_in_epoch(whole))));
  return std::max<int64_t>(1, micro / A);
}

}  // namespace steper
