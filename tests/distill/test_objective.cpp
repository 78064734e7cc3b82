// The objectives against losses written out by hand from the logits.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/error_of.h"
#include "core/error.h"
#include "distill/objective.h"
#include "distill/train_config.h"

namespace steper {
namespace {

// ---- a hand-made batch -----------------------------------------------------------------------------

constexpr int kV = 5;

struct HandBatch {
  std::vector<std::vector<double>> logits;  // [N][V]
  std::vector<int64_t> labels, task, example;
  int n_examples = 0;
};

// 4 examples: e0 init (2 tokens), e1 exp (3 tokens), e2 agg (1 token), e3 agg (2 tokens)
HandBatch hand_batch() {
  HandBatch b;
  const int tasks[4] = {0, 1, 2, 2}, lens[4] = {2, 3, 1, 2};
  int i = 0;
  for (int e = 0; e < 4; ++e) {
    for (int k = 0; k < lens[e]; ++k, ++i) {
      std::vector<double> row(kV);
      for (int v = 0; v < kV; ++v) row[static_cast<size_t>(v)] = std::sin(1.3 * i + 0.7 * v * v) * (1.0 + 0.25 * v);
      b.logits.push_back(row);
      b.labels.push_back((3 * i + 1) % kV);
      b.task.push_back(tasks[e]);
      b.example.push_back(e);
    }
  }
  b.n_examples = 4;
  return b;
}

double hand_ce(const std::vector<double>& row, int64_t label) {
  double m = row[0];
  for (double x : row) m = std::max(m, x);
  double z = 0;
  for (double x : row) z += std::exp(x - m);
  return m + std::log(z) - row[static_cast<size_t>(label)];
}

// per-task token means, by hand
std::vector<double> hand_task_means(const HandBatch& b, const std::vector<size_t>& rows) {
  std::vector<double> sum(3, 0.0), cnt(3, 0.0);
  for (size_t i : rows) {
    sum[static_cast<size_t>(b.task[i])] += hand_ce(b.logits[i], b.labels[i]);
    cnt[static_cast<size_t>(b.task[i])] += 1;
  }
  for (int j = 0; j < 3; ++j) sum[static_cast<size_t>(j)] = cnt[static_cast<size_t>(j)] > 0 ? sum[static_cast<size_t>(j)] / cnt[static_cast<size_t>(j)] : 0;
  return sum;
}

// Everything the objective needs for rows `rows` of the batch, with totals over `all_rows`.
struct Prepared {
  torch::Tensor logits, labels;
  ObjectiveTargets targets;
  StepTotals totals;
};

Prepared prepare(const HandBatch& b, const std::vector<size_t>& rows, const std::vector<size_t>& all_rows) {
  Prepared p;
  std::vector<int64_t> ex_len(static_cast<size_t>(b.n_examples), 0);
  std::vector<bool> ex_seen(static_cast<size_t>(b.n_examples), false);
  for (size_t i : all_rows) {
    p.totals.target_tokens[static_cast<size_t>(b.task[i])]++;
    ex_len[static_cast<size_t>(b.example[i])]++;
    if (!ex_seen[static_cast<size_t>(b.example[i])]) {
      ex_seen[static_cast<size_t>(b.example[i])] = true;
      p.totals.examples++;
    }
  }
  std::vector<float> flat;
  std::vector<int64_t> labels, task, len;
  for (size_t i : rows) {
    for (double x : b.logits[i]) flat.push_back(static_cast<float>(x));
    labels.push_back(b.labels[i]);
    task.push_back(b.task[i]);
    len.push_back(ex_len[static_cast<size_t>(b.example[i])]);
  }
  auto n = static_cast<int64_t>(rows.size());
  p.logits = torch::from_blob(flat.data(), {n, kV}, torch::kFloat).clone();
  p.labels = torch::from_blob(labels.data(), {n}, torch::kLong).clone();
  p.targets = objective_targets(task, len, p.totals);
  return p;
}

std::vector<size_t> range(size_t a, size_t b) {
  std::vector<size_t> r;
  for (size_t i = a; i < b; ++i) r.push_back(i);
  return r;
}

// ---- tests -----------------------------------------------------------------------------------------

TEST(Objective, TokenCrossEntropyMatchesHand) {
  HandBatch b = hand_batch();
  auto all = range(0, b.labels.size());
  Prepared p = prepare(b, all, all);
  torch::Tensor ce = token_cross_entropy(p.logits, p.labels);
  ASSERT_EQ(ce.size(0), static_cast<int64_t>(all.size()));
  for (size_t i : all) EXPECT_NEAR(ce[static_cast<int64_t>(i)].item<double>(), hand_ce(b.logits[i], b.labels[i]), 1e-5);
}

TEST(Objective, SteperLossMatchesHand) {
  HandBatch b = hand_batch();
  auto all = range(0, b.labels.size());
  Prepared p = prepare(b, all, all);
  std::vector<double> s = {0.3, -0.2, 0.5};
  torch::Tensor log_var = torch::tensor({0.3f, -0.2f, 0.5f});
  ObjectiveLoss out = objective_loss(Objective::kSteper, token_cross_entropy(p.logits, p.labels), p.targets, p.totals,
                                     log_var, true);
  std::vector<double> L = hand_task_means(b, all);
  double expect = 0;
  for (int j = 0; j < 3; ++j) expect += 0.5 * std::exp(-s[static_cast<size_t>(j)]) * L[static_cast<size_t>(j)] + 0.5 * s[static_cast<size_t>(j)];
  EXPECT_NEAR(out.loss.item<double>(), expect, 1e-5);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(out.task_loss[j].item<double>(), L[static_cast<size_t>(j)], 1e-5);
}

TEST(Objective, UniformLossIsMeanOfExampleMeans) {
  HandBatch b = hand_batch();
  auto all = range(0, b.labels.size());
  Prepared p = prepare(b, all, all);
  std::vector<double> sum(4, 0), cnt(4, 0);
  for (size_t i : all) {
    sum[static_cast<size_t>(b.example[i])] += hand_ce(b.logits[i], b.labels[i]);
    cnt[static_cast<size_t>(b.example[i])] += 1;
  }
  double expect = 0;
  for (int e = 0; e < 4; ++e) expect += sum[static_cast<size_t>(e)] / cnt[static_cast<size_t>(e)] / 4.0;
  torch::Tensor ce = token_cross_entropy(p.logits, p.labels);
  torch::Tensor s = torch::zeros({3});
  EXPECT_NEAR(objective_loss(Objective::kUniform, ce, p.targets, p.totals, s, true).loss.item<double>(), expect, 1e-5);
  // vanilla combines its (agg-only) examples the same way
  EXPECT_NEAR(objective_loss(Objective::kVanilla, ce, p.targets, p.totals, s, true).loss.item<double>(), expect, 1e-5);
  // sigma plays no part outside steper
  torch::Tensor s2 = torch::tensor({1.0f, 2.0f, 3.0f});
  EXPECT_NEAR(objective_loss(Objective::kUniform, ce, p.targets, p.totals, s2, true).loss.item<double>(), expect, 1e-5);
}

TEST(Objective, MicroBatchesSumToTheWholeBatch) {
  HandBatch b = hand_batch();
  auto all = range(0, b.labels.size());
  torch::Tensor s = torch::tensor({0.1f, 0.4f, -0.3f});
  for (Objective obj : {Objective::kSteper, Objective::kUniform}) {
    Prepared whole = prepare(b, all, all);
    double one = objective_loss(obj, token_cross_entropy(whole.logits, whole.labels), whole.targets, whole.totals, s, true)
                     .loss.item<double>();
    Prepared a = prepare(b, range(0, 3), all), c = prepare(b, range(3, all.size()), all);
    double two = objective_loss(obj, token_cross_entropy(a.logits, a.labels), a.targets, a.totals, s, true).loss.item<double>() +
                 objective_loss(obj, token_cross_entropy(c.logits, c.labels), c.targets, c.totals, s, false).loss.item<double>();
    EXPECT_NEAR(one, two, 1e-5) << objective_name(obj);
  }
}

TEST(Objective, GradientOfLogVarMatchesFormula) {
  HandBatch b = hand_batch();
  auto all = range(0, b.labels.size());
  Prepared p = prepare(b, all, all);
  std::vector<double> s = {0.7, -0.4, 0.05};
  torch::Tensor log_var = torch::tensor({0.7f, -0.4f, 0.05f}).requires_grad_(true);
  ObjectiveLoss out = objective_loss(Objective::kSteper, token_cross_entropy(p.logits, p.labels), p.targets, p.totals,
                                     log_var, true);
  out.loss.backward();
  std::vector<double> L = hand_task_means(b, all);
  for (int j = 0; j < 3; ++j) {
    double formula = 0.5 - 0.5 * std::exp(-s[static_cast<size_t>(j)]) * L[static_cast<size_t>(j)];
    EXPECT_NEAR(log_var.grad()[j].item<double>(), formula, 1e-5) << "task " << j;
  }
}

TEST(Objective, AbsentTaskContributesNothing) {
  HandBatch b = hand_batch();
  std::vector<size_t> rows = {0, 1, 5, 6, 7};  // init and agg tokens only: no exp
  Prepared p = prepare(b, rows, rows);
  ASSERT_FALSE(p.totals.has_task(1));
  torch::Tensor log_var = torch::tensor({0.2f, 0.9f, -0.6f}).requires_grad_(true);
  ObjectiveLoss out = objective_loss(Objective::kSteper, token_cross_entropy(p.logits, p.labels), p.targets, p.totals,
                                     log_var, true);
  out.loss.backward();
  std::vector<double> L = hand_task_means(b, rows);
  double expect = 0.5 * std::exp(-0.2) * L[0] + 0.5 * 0.2 + 0.5 * std::exp(0.6) * L[2] + 0.5 * -0.6;
  EXPECT_NEAR(out.loss.item<double>(), expect, 1e-5);
  EXPECT_EQ(log_var.grad()[1].item<double>(), 0.0);
}

TEST(Objective, SigmaSquaredConvergesToTaskLoss) {
  // fixed task losses: one token per task whose cross-entropy is L_j; only s is optimised
  const std::vector<double> L = {2.0, 0.7, 0.3};
  torch::Tensor ce = torch::tensor({2.0f, 0.7f, 0.3f});
  StepTotals totals;
  totals.target_tokens = {1, 1, 1};
  totals.examples = 3;
  ObjectiveTargets t = objective_targets({0, 1, 2}, {1, 1, 1}, totals);
  TaskWeighting w;
  torch::optim::Adam opt(w->parameters(), torch::optim::AdamOptions(0.05));
  for (int it = 0; it < 3000; ++it) {
    opt.zero_grad();
    objective_loss(Objective::kSteper, ce, t, totals, w->log_var, true).loss.backward();
    opt.step();
  }
  auto sigma = w->sigma();
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(sigma[static_cast<size_t>(j)] * sigma[static_cast<size_t>(j)], L[static_cast<size_t>(j)], 1e-3) << "task " << j;
}

TEST(Objective, BalancedIsHalfTheSumOfTaskMeansWhateverSigma) {
  // each task's token mean weighted 1/2, as StepER weights them with every sigma at 1 and no prior
  HandBatch b = hand_batch();
  auto all = range(0, b.labels.size());
  Prepared p = prepare(b, all, all);
  std::vector<double> L = hand_task_means(b, all);
  const double expect = 0.5 * (L[0] + L[1] + L[2]);
  torch::Tensor log_var = torch::tensor({0.4f, -1.0f, 2.0f}).requires_grad_(true);
  ObjectiveLoss out = objective_loss(Objective::kBalanced, token_cross_entropy(p.logits, p.labels), p.targets,
                                     p.totals, log_var, true);
  EXPECT_NEAR(out.loss.item<double>(), expect, 1e-5);
  EXPECT_FALSE(objective_learns_sigma(Objective::kBalanced));
  // uniform differs: one mean over examples (here e1's three exp tokens count as one example of four)
  ObjectiveLoss uni = objective_loss(Objective::kUniform, token_cross_entropy(p.logits, p.labels), p.targets, p.totals,
                                     log_var, true);
  EXPECT_GT(std::fabs(uni.loss.item<double>() - expect), 1e-3);
}

TEST(Objective, TiedSharesOneSigmaAcrossTheTasks) {
  // L = sum_j 0.5 exp(-m) L_j + 0.5 m (three tasks present), m the mean of s; each s_j's gradient is a third
  // of dL/dm = 0.5 * 3 - 0.5 exp(-m) sum_j L_j
  HandBatch b = hand_batch();
  auto all = range(0, b.labels.size());
  Prepared p = prepare(b, all, all);
  std::vector<double> L = hand_task_means(b, all);
  torch::Tensor log_var = torch::tensor({0.6f, 0.0f, -0.3f}).requires_grad_(true);
  const double m = 0.1;
  ObjectiveLoss out = objective_loss(Objective::kTied, token_cross_entropy(p.logits, p.labels), p.targets, p.totals,
                                     log_var, true);
  const double sum_l = L[0] + L[1] + L[2];
  EXPECT_NEAR(out.loss.item<double>(), 0.5 * std::exp(-m) * sum_l + 1.5 * m, 1e-5);
  out.loss.backward();
  for (int j = 0; j < 3; ++j)
    EXPECT_NEAR(log_var.grad()[j].item<double>(), (1.5 - 0.5 * std::exp(-m) * sum_l) / 3.0, 1e-5) << "task " << j;
  EXPECT_TRUE(objective_learns_sigma(Objective::kTied));
  EXPECT_TRUE(objective_learns_sigma(Objective::kSteper));
}

TEST(Objective, NamesAndBadName) {
  EXPECT_EQ(objective_from_name("balanced"), Objective::kBalanced);
  EXPECT_EQ(objective_from_name("tied"), Objective::kTied);
  EXPECT_STREQ(objective_name(Objective::kTied), "tied");
  for (const auto& name : objective_names()) EXPECT_EQ(objective_name(objective_from_name(name)), name);
  EXPECT_EQ(objective_from_name("steper"), Objective::kSteper);
  EXPECT_EQ(objective_from_name("uniform"), Objective::kUniform);
  EXPECT_EQ(objective_from_name("vanilla"), Objective::kVanilla);
  EXPECT_TRUE(objective_agg_only(Objective::kVanilla));
  EXPECT_FALSE(objective_agg_only(Objective::kSteper));
  {
    const std::string msg = error_of([&] { objective_from_name("kd"); });
    EXPECT_HAS(msg, "--objective");
    EXPECT_HAS(msg, "kd");
  }
}

}  // namespace
}  // namespace steper
