// Shared-prefix packing computes what the examples computed one by one compute: the loss and the gradient
// of every parameter and of sigma, for each objective, for Llama and Qwen2 configurations. The reference
// runs each example alone through the plain forward and writes the objective out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "distill/packing.h"
#include "distill/step.h"
#include "common/random_weights.h"
#include "common/toy_llama.h"
#include "model/llama.h"

namespace steper {
namespace {

LlamaConfig small_config(bool qwen) {
  LlamaConfig c = toy_llama_config(qwen, /*tied=*/qwen);
  if (qwen) c.rope_theta = 1e6;
  c.num_key_value_heads = qwen ? 2 : 4;  // Llama without grouped-query attention
  c.vocab_size = 61;                     // the ids below reach 60
  return c;
}

// A trace in StepER's layout, as token ids: step s's prompt is BOS, the passages of steps 1..s, the question;
// its target the sentences 1..s (the last example: every sentence, then the end token).
struct TraceIds {
  std::vector<std::vector<int32_t>> passages;   // new at each step (empty: the passage cap was reached)
  std::vector<std::vector<int32_t>> sentences;  // one per step, the last the answer sentence
  std::vector<int32_t> question;
};

std::vector<int32_t> run(int32_t from, int n) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(3 + (from + 7 * i) % 55);
  return v;
}

void append(std::vector<int32_t>& a, const std::vector<int32_t>& b) { a.insert(a.end(), b.begin(), b.end()); }

void add_examples(std::vector<TokenizedExample>& out, const TraceIds& tr, uint32_t trace, bool agg_only) {
  const int S = static_cast<int>(tr.sentences.size());
  for (int s = 1; s <= S; ++s) {
    if (agg_only && s < S) continue;
    TokenizedExample e;
    e.trace = trace;
    e.step = s;
    e.task = s == S ? Task::kAgg : s == 1 ? Task::kInit : Task::kExp;
    e.ids = {1};
    for (int k = 0; k < s; ++k) append(e.ids, tr.passages[static_cast<size_t>(k)]);
    append(e.ids, tr.question);
    e.target_start = static_cast<int32_t>(e.ids.size());
    for (int k = 0; k < s; ++k) append(e.ids, tr.sentences[static_cast<size_t>(k)]);
    if (s == S) e.ids.push_back(2);
    out.push_back(e);
  }
}

// Four traces: ordinary (3 steps), one that reached the passage cap (steps 2 and 3 add no passage), a long
// one (5 steps) that the row limit splits, and one whose second prompt does not start with the first's
// passages (a tokenisation that merged across the boundary).
std::vector<TokenizedExample> make_examples(bool agg_only, bool lm) {
  std::vector<TraceIds> traces(4);
  traces[0] = {{run(0, 12), run(5, 9), run(9, 11)}, {run(1, 4), run(2, 5), run(3, 3)}, run(4, 5)};
  traces[1] = {{run(11, 14), {}, {}}, {run(12, 4), run(13, 3), run(14, 4)}, run(15, 4)};
  traces[2] = {{run(20, 10), run(21, 12), run(22, 9), run(23, 10), run(24, 8)},
               {run(25, 3), run(26, 4), run(27, 3), run(28, 5), run(29, 3)},
               run(30, 6)};
  traces[3] = {{run(31, 9), run(32, 8)}, {run(33, 4), run(34, 3)}, run(35, 4)};
  std::vector<TokenizedExample> out;
  for (uint32_t i = 0; i < traces.size(); ++i) add_examples(out, traces[i], i, agg_only);
  // trace 3: the last token of its first passage differs in its second prompt
  for (auto& e : out)
    if (e.trace == 3 && e.step == 2) e.ids[9] = 60;
  if (lm)
    for (auto& e : out) e.target_start = 1;
  return out;
}

struct Result {
  double loss = 0;
  std::vector<torch::Tensor> grads;  // every parameter's, then log_var's
};

Result collect(Llama& m, const torch::Tensor& log_var, double loss) {
  Result r;
  r.loss = loss;
  for (auto& np : m->hf_named_parameters()) r.grads.push_back(np.second.grad().detach().clone());
  r.grads.push_back(log_var.grad().defined() ? log_var.grad().detach().clone() : torch::zeros({3}));
  return r;
}

void zero(Llama& m, torch::Tensor& log_var) {
  for (auto& np : m->hf_named_parameters()) np.second.mutable_grad() = torch::Tensor();
  log_var.mutable_grad() = torch::Tensor();
}

// Each example alone; the objective written out: steper sum_j 0.5 exp(-s_j) L_j + 0.5 s_j, L_j the mean
// cross-entropy over task j's scored tokens; uniform, vanilla, lm the mean over examples of their means.
Result reference(Llama& m, torch::Tensor& log_var, Objective objective, const std::vector<TokenizedExample>& ex) {
  zero(m, log_var);
  std::vector<torch::Tensor> sums[3];
  std::vector<torch::Tensor> means;
  int64_t count[3] = {0, 0, 0};
  for (const TokenizedExample& e : ex) {
    std::vector<int64_t> ids(e.ids.begin(), e.ids.end());
    torch::Tensor logp = torch::log_softmax(m->forward(torch::tensor(ids).unsqueeze(0))[0], -1);
    torch::Tensor sum = torch::zeros({});
    for (int32_t t = e.target_start; t < e.length(); ++t) sum = sum - logp[t - 1][ids[static_cast<size_t>(t)]];
    sums[static_cast<int>(e.task)].push_back(sum);
    count[static_cast<int>(e.task)] += e.target_length();
    means.push_back(sum / e.target_length());
  }
  torch::Tensor loss = torch::zeros({});
  if (objective == Objective::kSteper) {
    for (int j = 0; j < 3; ++j) {
      if (count[j] == 0) continue;
      torch::Tensor lj = torch::stack(sums[j]).sum() / static_cast<double>(count[j]);
      loss = loss + 0.5 * torch::exp(-log_var[j]) * lj + 0.5 * log_var[j];
    }
  } else {
    loss = torch::stack(means).mean();
  }
  loss.backward();
  return collect(m, log_var, loss.item<double>());
}

// The trainer's step over the packs, in two micro-batches (padded rows, gradient accumulation).
Result packed(Llama& m, torch::Tensor& log_var, Objective objective, const std::vector<TokenizedExample>& ex,
              const PackOptions& opts, PackStats* stats) {
  zero(m, log_var);
  std::vector<Pack> packs = build_packs(ex, opts, stats);
  Batch batch;
  for (size_t half = 0; half < 2; ++half) {
    BatchPart part;
    for (size_t r = half; r < packs.size(); r += 2) {
      part.examples.push_back(static_cast<uint32_t>(r));
      part.max_len = std::max(part.max_len, packs[r].length());
      batch.tokens += packs[r].length();
    }
    batch.parts.push_back(part);
  }
  StepBatches step;
  const StepData data{ex, packs};
  add_batch(step, batch, data);
  StepLoss loss = forward_backward(m, log_var, objective, data, step, torch::kCPU, false);
  return collect(m, log_var, loss.loss);
}

double rel(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).norm().item<double>() / want.norm().item<double>();
}

void expect_equal(const Result& got, const Result& want, const std::string& what) {
  EXPECT_LT(std::abs(got.loss - want.loss) / std::abs(want.loss), 1e-5) << what;
  ASSERT_EQ(got.grads.size(), want.grads.size());
  for (size_t i = 0; i < want.grads.size(); ++i) {
    if (want.grads[i].norm().item<double>() == 0) {  // sigma of objectives that do not train it
      EXPECT_EQ(got.grads[i].norm().item<double>(), 0) << what << ", gradient " << i;
      continue;
    }
    EXPECT_LT(rel(got.grads[i], want.grads[i]), 1e-5) << what << ", gradient " << i;
  }
}

TEST(Packing, RowsOfHundredsOfTokensEqualThePerExampleComputationToo) {
  // rows past 256 tokens: the attention runs in query blocks that skip keys no query of the block sees
  TraceIds tr{{run(40, 120), run(41, 110), run(42, 100)}, {run(43, 6), run(44, 5), run(45, 4)}, run(46, 8)};
  std::vector<TokenizedExample> ex;
  add_examples(ex, tr, 0, false);
  for (bool qwen : {false, true}) {
    Llama m(small_config(qwen));
    randomize_weights(m, 7 + qwen, 0.2);
    torch::Tensor log_var = torch::tensor({-0.1f, 0.5f, 0.3f}).requires_grad_(true);
    const Result want = reference(m, log_var, Objective::kSteper, ex);
    PackStats st;
    PackOptions on;
    on.limit = 512;
    expect_equal(packed(m, log_var, Objective::kSteper, ex, on, &st), want, qwen ? "qwen2" : "llama");
    EXPECT_EQ(st.rows, 1u);
    // BOS, the passages once, each example's question (8) and sentences (6, 11, 15), EOS
    EXPECT_EQ(st.computed_tokens, 1 + 330 + 3 * 8 + 6 + 11 + 15 + 1);
  }
}

TEST(Packing, LossAndEveryGradientEqualThePerExampleComputation) {
  for (Objective objective : {Objective::kSteper, Objective::kUniform, Objective::kVanilla, Objective::kLm})
    for (bool qwen : {false, true}) {
      const std::string what = std::string(objective_name(objective)) + (qwen ? " qwen2" : " llama");
      Llama m(small_config(qwen));
      randomize_weights(m, 3 + qwen, 0.2);
      torch::Tensor log_var = torch::tensor({0.3f, -0.4f, 0.2f}).requires_grad_(true);
      const std::vector<TokenizedExample> ex =
          make_examples(objective_agg_only(objective), objective == Objective::kLm);
      const Result want = reference(m, log_var, objective, ex);
      PackStats st;
      PackOptions on;
      on.limit = 100;  // trace 2's row (134 tokens) is over it: rows of 70 and 96; the others fit
      expect_equal(packed(m, log_var, objective, ex, on, &st), want, what + ", packed");
      PackOptions off;
      off.enabled = false;
      expect_equal(packed(m, log_var, objective, ex, off, nullptr), want, what + ", per example");
      if (!objective_agg_only(objective)) {
        EXPECT_EQ(st.split_traces, 1u) << what;
        EXPECT_EQ(st.unshared_steps, 1u) << what;
        // by hand: example tokens 22+36+51, 23+26+31, 20+36+48+63+75, 18+30; the rows 22+23+29,
        // 23+3+5 (the cap: each example extends the one before), 20+25+25 and 63+33 (split), 18+21
        EXPECT_EQ(st.example_tokens, 479) << what;
        EXPECT_EQ(st.computed_tokens, 310) << what;
      } else {
        EXPECT_EQ(st.computed_tokens, st.example_tokens) << what;  // one branch per trace
      }
    }
}

}  // namespace
}  // namespace steper
