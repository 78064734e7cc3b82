#include "distill/data.h"

#include <algorithm>

#include "core/error.h"
#include "core/io.h"
#include "core/trace_json.h"

namespace steper {

// ---- traces and examples ---------------------------------------------------------------------------

std::vector<Trace> load_traces(const std::string& path, TraceLoadStats* stats) {
  if (!file_exists(path)) throw Error(path + ": no such traces file (--traces)");
  std::vector<Trace> traces;
  TraceLoadStats st;
  for_each_jsonl(path, [&](const nlohmann::json& j, size_t line) {
    std::string where = path + ":" + std::to_string(line);
    ++st.lines;
    // teach's verdict when present; a plain trace file keeps its correct traces
    auto kept = j.find("kept");
    bool keep = true;
    if (kept != j.end()) {
      if (!kept->is_boolean()) throw Error(where + ": field \"kept\" must be true or false");
      keep = kept->get<bool>();
    } else {
      auto correct = j.find("correct");
      if (correct != j.end() && correct->is_boolean()) keep = correct->get<bool>();
    }
    if (!keep) {
      ++st.not_kept;
      return;
    }
    traces.push_back(trace_from_json(j, where));
  });
  if (stats) *stats = st;
  return traces;
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
  for (const auto& e : examples) {
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

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void shuffle_indices(std::vector<uint32_t>& v, uint64_t seed) {
  uint64_t state = seed;
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(splitmix64(state) % i);
    std::swap(v[i - 1], v[j]);
  }
}

std::vector<Batch> plan_epoch(const std::vector<TokenizedExample>& data, int64_t epoch, const BatchOptions& opts) {
  if (opts.batch_tokens < 1) throw Error("--batch-tokens must be positive");
  if (opts.world_size < 1 || opts.rank < 0 || opts.rank >= opts.world_size)
    throw Error("rank " + std::to_string(opts.rank) + " outside world size " + std::to_string(opts.world_size));
  std::vector<Batch> batches;
  if (data.empty()) return batches;

  uint64_t mix = opts.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(epoch) + 1;
  uint64_t order_seed = splitmix64(mix), batch_seed = splitmix64(mix);

  std::vector<uint32_t> order(data.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  shuffle_indices(order, order_seed);

  // chunk size in examples: about chunk_batches batches of average-length examples
  double mean_len = 0;
  for (const auto& d : data) mean_len += d.length();
  mean_len /= static_cast<double>(data.size());
  double per_batch = std::max(1.0, static_cast<double>(opts.batch_tokens) / mean_len);
  size_t chunk = static_cast<size_t>(std::max(1.0, per_batch * std::max(1, opts.chunk_batches)));

  for (size_t c0 = 0; c0 < order.size(); c0 += chunk) {
    size_t c1 = std::min(order.size(), c0 + chunk);
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(c0), order.begin() + static_cast<std::ptrdiff_t>(c1),
                     [&](uint32_t a, uint32_t b) { return data[a].length() > data[b].length(); });
    Batch cur;
    for (size_t k = c0; k < c1; ++k) {
      const TokenizedExample& ex = data[order[k]];
      int32_t new_max = std::max(cur.max_len, ex.length());
      if (!cur.examples.empty() && static_cast<int64_t>(cur.examples.size() + 1) * new_max > opts.batch_tokens) {
        batches.push_back(std::move(cur));
        cur = Batch();
        new_max = ex.length();
      }
      cur.examples.push_back(order[k]);
      cur.max_len = new_max;
      cur.tokens += ex.length();
      cur.target_tokens += ex.target_length();
    }
    if (!cur.examples.empty()) batches.push_back(std::move(cur));
  }

  // batch order shuffled so lengths do not drift within an epoch
  std::vector<uint32_t> perm(batches.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<uint32_t>(i);
  shuffle_indices(perm, batch_seed);
  // every rank gets the same number of batches: the last few that do not divide evenly are left out
  size_t usable = batches.size() - batches.size() % static_cast<size_t>(opts.world_size);
  std::vector<Batch> mine;
  for (size_t i = static_cast<size_t>(opts.rank); i < usable; i += static_cast<size_t>(opts.world_size))
    mine.push_back(std::move(batches[perm[i]]));
  return mine;
}

}  // namespace steper
