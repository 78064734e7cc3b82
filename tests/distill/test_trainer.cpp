// The trainer end to end on a tiny model: it learns, writes its outputs, and resumes bit for bit.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "common/error_of.h"
#include "core/error.h"
#include "core/io.h"
#include "core/trace_json.h"
#include "distill/checkpoint.h"
#include "distill/trainer.h"
#include "model/llama.h"
#include "text/tokenizer.h"
#include "trainer_fixture.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

TrainConfig base_config(const std::string& out) { return fixture_config(out); }
const TrainerFixture& fixture() { return trainer_fixture(); }

std::vector<nlohmann::json> metrics(const std::string& out) { return read_jsonl(out + "/metrics.jsonl"); }

// ---- tests -----------------------------------------------------------------------------------------

TEST(Trainer, LearningRateSchedule) {
  // linear warm-up to the peak, cosine to lr * min_ratio
  EXPECT_DOUBLE_EQ(lr_at_step(1, 100, 1.0, 10, 0.1), 0.1);
  EXPECT_DOUBLE_EQ(lr_at_step(10, 100, 1.0, 10, 0.1), 1.0);
  EXPECT_NEAR(lr_at_step(55, 100, 1.0, 10, 0.1), 0.1 + 0.9 * 0.5, 1e-12);  // halfway through the cosine
  EXPECT_NEAR(lr_at_step(100, 100, 1.0, 10, 0.1), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(lr_at_step(1, 10, 2.0, 0, 0.0), 2.0 * 0.5 * (1 + std::cos(M_PI * 0.1)));
}

TEST(Trainer, LearnsAndWritesItsOutputs) {
  TrainConfig c = base_config("learns");
  c.train_steps = 40;
  std::vector<TrainStepRecord> recs;
  TrainResult r = train_run(c, [&](const TrainStepRecord& s) { recs.push_back(s); });
  ASSERT_EQ(r.steps, 40);
  ASSERT_EQ(recs.size(), 40u);
  EXPECT_TRUE(r.finished);
  // 6 kept traces with 3 steps: one init, one exp, one agg example each (the not-kept line is skipped)
  EXPECT_EQ(r.examples, 18u);
  EXPECT_EQ(r.examples_per_task[0], 6u);
  EXPECT_EQ(r.examples_per_task[1], 6u);
  EXPECT_EQ(r.examples_per_task[2], 6u);
  // it learns: the agg loss at the end is far below the start (the data is tiny and repeated)
  // (a step may hold no agg example: its loss is NaN)
  double first = NAN, last = NAN;
  for (const auto& s : recs)
    if (std::isfinite(s.task_loss[2])) {
      if (std::isnan(first)) first = s.task_loss[2];
      last = s.task_loss[2];
    }
  EXPECT_LT(last, 0.5 * first) << first << " -> " << last;
  // outputs
  EXPECT_TRUE(file_exists(c.out_dir + "/model/config.json"));
  EXPECT_TRUE(file_exists(c.out_dir + "/model/model.safetensors"));
  EXPECT_EQ(read_file(c.out_dir + "/model/tokenizer.json"), read_file(fixture().model + "/tokenizer.json"));
  EXPECT_TRUE(file_exists(c.out_dir + "/config.json"));
  auto m = metrics(c.out_dir);
  ASSERT_EQ(m.size(), 40u);
  for (const char* k : {"step", "lr", "loss", "loss_init", "loss_exp", "loss_agg", "sigma_init", "sigma_exp",
                        "sigma_agg", "tokens", "tokens_per_s", "padding_share"})
    EXPECT_TRUE(m.back().contains(k)) << k;
  std::string loss_svg = read_file(c.out_dir + "/loss.svg"), sigma_svg = read_file(c.out_dir + "/sigma.svg");
  EXPECT_NE(loss_svg.find("L_agg"), std::string::npos);
  EXPECT_NE(sigma_svg.find("sigma_init"), std::string::npos);
  EXPECT_NE(sigma_svg.find("<path"), std::string::npos);
  // the saved model is the trained one: it loads and differs from the starting weights
  Llama start = llama_load(fixture().model), trained = llama_load(c.out_dir + "/model");
  auto a = start->hf_named_parameters(), b = trained->hf_named_parameters();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_FALSE(torch::equal(a[0].second, b[0].second));
}

// ---- the objective, computed independently ------------------------------------------------------

// The summed cross-entropy of one example's target tokens under the fixture's starting weights.
struct ExampleLoss {
  Task task = Task::kAgg;
  double sum = 0;
  int64_t tokens = 0;
};

// Every example on its own (no batching, no padding), scored straight from log_softmax in double.
std::vector<ExampleLoss> starting_losses(const TrainConfig& c, bool agg_only) {
  Tokenizer tok = Tokenizer::from_json_string(fixture().tokenizer_json, "test tokenizer");
  TokenizeOptions o;
  o.max_len = 512;  // the fixture's max_position_embeddings
  o.eos_id = tok.eos_id() >= 0 ? tok.eos_id() : tok.token_to_id("<|endoftext|>");
  auto encode = [&](const std::string& text, bool is_prompt) { return tok.encode(text, is_prompt); };
  std::vector<TokenizedExample> data = tokenize_examples(load_examples(c, agg_only), encode, o);
  Llama model = llama_load(fixture().model);
  torch::NoGradGuard no_grad;
  std::vector<ExampleLoss> out;
  for (const TokenizedExample& ex : data) {
    std::vector<int64_t> ids(ex.ids.begin(), ex.ids.end());
    torch::Tensor logits = model->forward(torch::tensor(ids, torch::kLong).view({1, -1}))[0];
    torch::Tensor logp = torch::log_softmax(logits.to(torch::kDouble), -1);
    auto lp = logp.accessor<double, 2>();
    ExampleLoss e;
    e.task = ex.task;
    for (int32_t t = ex.target_start; t < ex.length(); ++t, ++e.tokens) e.sum -= lp[t - 1][ex.ids[static_cast<size_t>(t)]];
    out.push_back(e);
  }
  return out;
}

// One step over the whole data in a single batch (every task present).
std::vector<TrainStepRecord> one_batch_steps(TrainConfig c, int64_t steps) {
  c.train_steps = steps;
  c.batch_tokens = 100000;
  c.write_model = false;
  std::vector<TrainStepRecord> recs;
  train_run(c, [&](const TrainStepRecord& s) { recs.push_back(s); });
  return recs;
}

TEST(Trainer, SteperLossMatchesAnIndependentComputation) {
  // step 1 (s_j = 0): L = sum_j 0.5 L_j, L_j the mean cross-entropy over task j's target tokens
  TrainConfig c = base_config("formula");
  std::vector<TrainStepRecord> recs = one_batch_steps(c, 1);
  ASSERT_EQ(recs.size(), 1u);
  double sum[3] = {0, 0, 0}, tokens[3] = {0, 0, 0};
  for (const ExampleLoss& e : starting_losses(c, false)) {
    sum[static_cast<int>(e.task)] += e.sum;
    tokens[static_cast<int>(e.task)] += static_cast<double>(e.tokens);
  }
  double expect = 0;
  for (size_t j = 0; j < 3; ++j) {
    ASSERT_GT(tokens[j], 0) << j;
    double lj = sum[j] / tokens[j];
    EXPECT_NEAR(recs[0].task_loss[j], lj, 1e-5 * lj) << "task " << j;
    expect += 0.5 * lj;
  }
  EXPECT_NEAR(recs[0].loss, expect, 1e-5 * expect);
}

TEST(Trainer, UniformLossMatchesAnIndependentComputation) {
  // the mean over examples of each example's mean token cross-entropy; sigma is not trained
  TrainConfig c = base_config("formula-uniform");
  c.objective = "uniform";
  std::vector<TrainStepRecord> recs = one_batch_steps(c, 1);
  ASSERT_EQ(recs.size(), 1u);
  std::vector<ExampleLoss> losses = starting_losses(c, false);
  ASSERT_EQ(losses.size(), 18u);
  double expect = 0;
  for (const ExampleLoss& e : losses) expect += e.sum / static_cast<double>(e.tokens) / static_cast<double>(losses.size());
  EXPECT_NEAR(recs[0].loss, expect, 1e-5 * expect);
  for (size_t j = 0; j < 3; ++j) EXPECT_EQ(recs[0].sigma[j], 1.0) << j;
}

// s_j = log sigma_j^2 has gradient dL/ds_j = 0.5 - 0.5 exp(-s_j) L_j, and AdamW (no decay on s) applies it at
// the model's learning rate times --sigma-lr-scale. eps = 1 makes the update grow with the gradient, so the
// check sees its size, not only its sign.
void expect_sigma_follows_adamw(double sigma_lr_scale) {
  TrainConfig c = base_config("sigma");
  c.adam_eps = 1.0;
  c.warmup = 3;
  c.sigma_lr_scale = sigma_lr_scale;
  std::vector<TrainStepRecord> recs = one_batch_steps(c, 2);
  ASSERT_EQ(recs.size(), 2u);
  const double b1 = c.beta1, b2 = c.beta2;
  const double lr[2] = {sigma_lr_scale * c.lr / 3, sigma_lr_scale * 2 * c.lr / 3};  // warm-up: step k of 3
  for (size_t j = 0; j < 3; ++j) {
    double s = 0, m = 0, v = 0;
    for (size_t k = 0; k < 2; ++k) {
      const double L = recs[k].task_loss[j];  // at the weights before step k's update
      ASSERT_TRUE(std::isfinite(L));
      const double g = 0.5 - 0.5 * std::exp(-s) * L;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const double n = static_cast<double>(k + 1);
      s -= lr[k] * (m / (1 - std::pow(b1, n))) / (std::sqrt(v / (1 - std::pow(b2, n))) + c.adam_eps);
      EXPECT_NEAR(recs[k].sigma[j], std::exp(0.5 * s), 1e-6)
          << "task " << j << ", step " << k + 1 << ", sigma lr scale " << sigma_lr_scale;
    }
    // every task starts with L_j > 1: the prior term loses, sigma grows (the task's weight shrinks)
    EXPECT_GT(recs[0].sigma[j], 1.0) << j;
  }
}

TEST(Trainer, SigmaFollowsAdamWOnTheSteperObjective) { expect_sigma_follows_adamw(1.0); }

TEST(Trainer, SigmaLearningRateScaleScalesOnlySigmasSteps) {
  expect_sigma_follows_adamw(10.0);
  // the model's own updates do not change with it: the first step's losses are computed before any update,
  // the second's after one update of the weights, equal at both scales
  TrainConfig c = base_config("sigma-scale");
  std::vector<TrainStepRecord> one = one_batch_steps(c, 2);
  c.sigma_lr_scale = 10.0;
  std::vector<TrainStepRecord> ten = one_batch_steps(c, 2);
  for (size_t j = 0; j < 3; ++j) EXPECT_EQ(one[1].task_loss[j], ten[1].task_loss[j]) << j;
  EXPECT_GT(std::fabs(std::log(ten[1].sigma[0])), 5 * std::fabs(std::log(one[1].sigma[0])));
  // an objective that learns no sigma refuses the flag
  c.objective = "uniform";
  EXPECT_NE(train_error(c).find("--sigma-lr-scale"), std::string::npos);
}

TEST(Trainer, TiedSigmasStayEqual) {
  TrainConfig c = base_config("tied");
  c.objective = "tied";
  std::vector<TrainStepRecord> recs = one_batch_steps(c, 3);
  ASSERT_EQ(recs.size(), 3u);
  for (const auto& r : recs) {
    EXPECT_NE(r.sigma[0], 1.0);
    EXPECT_EQ(r.sigma[0], r.sigma[1]);
    EXPECT_EQ(r.sigma[1], r.sigma[2]);
  }
}

TEST(Trainer, SeedsGiveDifferentDataOrdersAndWeightsTheSameSeedTheSame) {
  auto run = [](const std::string& name, uint64_t seed, std::vector<TrainStepRecord>* recs) {
    TrainConfig c = base_config(name);
    c.train_steps = 6;
    c.batch_tokens = 256;
    c.seed = seed;
    train_run(c, [&](const TrainStepRecord& s) { recs->push_back(s); });
    return llama_load(c.out_dir + "/model");
  };
  std::vector<TrainStepRecord> a, b, other;
  Llama wa = run("seed-a", 1, &a), wb = run("seed-b", 1, &b), wo = run("seed-other", 2, &other);
  // the first step computes the same starting weights on other examples: its loss differs with the seed
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(other.empty());
  EXPECT_EQ(a[0].loss, b[0].loss);
  EXPECT_NE(a[0].loss, other[0].loss);
  auto pa = wa->hf_named_parameters(), pb = wb->hf_named_parameters(), po = wo->hf_named_parameters();
  ASSERT_EQ(pa.size(), po.size());
  size_t differ = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i].second, pb[i].second)) << pa[i].first;
    differ += !torch::equal(pa[i].second, po[i].second);
  }
  EXPECT_EQ(differ, pa.size());
}

TEST(Trainer, VanillaNeverSeesInitOrExp) {
  TrainConfig c = base_config("vanilla");
  c.objective = "vanilla";
  c.train_steps = 3;
  c.write_model = false;
  std::vector<TrainStepRecord> recs;
  TrainResult r = train_run(c, [&](const TrainStepRecord& s) { recs.push_back(s); });
  EXPECT_EQ(r.examples, 6u);
  EXPECT_EQ(r.examples_per_task[0], 0u);
  EXPECT_EQ(r.examples_per_task[1], 0u);
  for (const auto& s : recs) {
    EXPECT_TRUE(std::isnan(s.task_loss[0]));
    EXPECT_TRUE(std::isnan(s.task_loss[1]));
    EXPECT_TRUE(std::isfinite(s.task_loss[2]));
  }
  nlohmann::json cfg = read_json(c.out_dir + "/config.json");
  EXPECT_EQ(cfg["data"]["examples_init"], 0);
  EXPECT_EQ(cfg["data"]["examples_exp"], 0);
}

TEST(Trainer, LmScoresEveryTokenOfTheAggExamples) {
  // vanilla and lm see the same agg examples in the same order; lm scores every token but the first
  TrainConfig v = base_config("lm-vanilla");
  v.objective = "vanilla";
  v.train_steps = 2;
  v.write_model = false;
  std::vector<TrainStepRecord> vrecs;
  TrainResult vr = train_run(v, [&](const TrainStepRecord& s) { vrecs.push_back(s); });
  TrainConfig c = base_config("lm");
  c.objective = "lm";
  c.train_steps = 2;
  c.write_model = false;
  std::vector<TrainStepRecord> recs;
  TrainResult r = train_run(c, [&](const TrainStepRecord& s) { recs.push_back(s); });
  EXPECT_EQ(r.examples, vr.examples);
  EXPECT_EQ(r.examples_per_task[0], 0u);
  EXPECT_EQ(r.examples_per_task[1], 0u);
  ASSERT_EQ(recs.size(), vrecs.size());
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].tokens, vrecs[i].tokens);
    EXPECT_LT(vrecs[i].target_tokens, vrecs[i].tokens / 2);  // vanilla scores only the short targets
    // lm scores every token except each example's first
    EXPECT_GT(recs[i].target_tokens, recs[i].tokens * 9 / 10);
    EXPECT_LT(recs[i].target_tokens, recs[i].tokens);
  }
}

TEST(Trainer, TokenBudgetStopsAtTheFirstStepThatReachesIt) {
  TrainConfig c = base_config("tokens");
  c.train_tokens = 3000;
  c.write_model = false;
  std::vector<TrainStepRecord> recs;
  TrainResult r = train_run(c, [&](const TrainStepRecord& s) { recs.push_back(s); });
  ASSERT_FALSE(recs.empty());
  EXPECT_GE(r.tokens, 3000);
  EXPECT_LT(r.tokens - recs.back().tokens, 3000);
  int64_t sum = 0, target = 0;
  for (const auto& s : recs) {
    sum += s.tokens;
    target += s.target_tokens;
  }
  EXPECT_EQ(sum, r.tokens);
  EXPECT_EQ(target, r.target_tokens);
  EXPECT_LT(r.target_tokens, r.tokens);
}

TEST(Trainer, ResumeEndsWithTheSameWeights) {
  // uninterrupted: 14 steps
  TrainConfig a = base_config("whole");
  a.train_steps = 14;
  a.grad_accum = 2;
  a.batch_tokens = 256;
  a.checkpoint_every = 4;
  train_run(a);
  // interrupted after 9 steps (last checkpoint at 9), a stray metrics line as a kill mid-step leaves it,
  // then resumed to the end
  TrainConfig b = a;
  b.out_dir = fixture().root + "/pieces";
  fs::remove_all(b.out_dir);
  b.stop_after = 9;
  TrainResult first = train_run(b);
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.steps, 9);
  EXPECT_FALSE(file_exists(b.out_dir + "/model/config.json"));
  {
    std::ofstream f(b.out_dir + "/metrics.jsonl", std::ios::app);
    f << R"({"step": 10, "loss": 123.0})" "\n";
  }
  b.stop_after = 0;
  b.resume = true;
  TrainResult second = train_run(b);
  EXPECT_TRUE(second.finished);
  EXPECT_EQ(second.steps, 14);

  Llama wa = llama_load(a.out_dir + "/model"), wb = llama_load(b.out_dir + "/model");
  auto pa = wa->hf_named_parameters(), pb = wb->hf_named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i].second, pb[i].second)) << pa[i].first;
  auto ma = metrics(a.out_dir), mb = metrics(b.out_dir);
  ASSERT_EQ(ma.size(), 14u);
  ASSERT_EQ(mb.size(), 14u);
  for (size_t i = 0; i < ma.size(); ++i) {
    EXPECT_EQ(ma[i]["step"], mb[i]["step"]);
    EXPECT_EQ(ma[i]["loss"].get<double>(), mb[i]["loss"].get<double>()) << "step " << i + 1;
    EXPECT_EQ(ma[i]["sigma_agg"].get<double>(), mb[i]["sigma_agg"].get<double>()) << "step " << i + 1;
  }
  // only the newest checkpoint is kept
  int checkpoints = 0;
  for (const auto& e : fs::directory_iterator(b.out_dir))
    checkpoints += e.path().filename().string().rfind("checkpoint-", 0) == 0;
  EXPECT_EQ(checkpoints, 1);
}

TEST(Trainer, PackedAndUnpackedStepsAgree) {
  // one batch holding every example: the same loss, task losses and sigma after the update either way;
  // packing computes fewer tokens, scores the same ones, and records what it did
  for (const char* objective : {"steper", "uniform", "vanilla"}) {
    TrainConfig on = base_config(std::string("packed-") + objective), off = base_config(std::string("unpacked-") + objective);
    on.objective = off.objective = objective;
    off.packing = false;
    std::vector<TrainStepRecord> a = one_batch_steps(on, 1), b = one_batch_steps(off, 1);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    for (size_t k = 0; k < 1; ++k) {
      EXPECT_NEAR(a[k].loss, b[k].loss, 1e-5 * std::abs(b[k].loss)) << objective << " step " << k + 1;
      for (size_t j = 0; j < 3; ++j) {
        if (std::isnan(b[k].task_loss[j])) {
          EXPECT_TRUE(std::isnan(a[k].task_loss[j]));
          continue;
        }
        EXPECT_NEAR(a[k].task_loss[j], b[k].task_loss[j], 1e-5 * b[k].task_loss[j]) << objective << " task " << j;
        EXPECT_NEAR(a[k].sigma[j], b[k].sigma[j], 1e-6) << objective << " task " << j;
      }
      EXPECT_EQ(a[k].target_tokens, b[k].target_tokens);
      EXPECT_EQ(a[k].examples, b[k].examples);
      if (std::string(objective) == "vanilla") EXPECT_EQ(a[k].tokens, b[k].tokens);
      else EXPECT_LT(a[k].tokens * 3, b[k].tokens * 2) << objective;  // 3 examples a trace share their passages
    }
    nlohmann::json cfg = read_json(on.out_dir + "/config.json");
    EXPECT_EQ(cfg["packing"], true);
    EXPECT_EQ(cfg["packing_stats"]["traces"], 6);
    EXPECT_EQ(cfg["packing_stats"]["split_traces"], 0);
    EXPECT_EQ(read_json(off.out_dir + "/config.json")["packing"], false);
  }
}

TEST(Trainer, ResumeTrainsAsTheCheckpointRecordedPacking) {
  // an unpacked run, interrupted, then resumed with packing asked for: it stays unpacked, and ends where
  // the uninterrupted unpacked run ends
  TrainConfig a = base_config("unpacked-whole");
  a.packing = false;
  a.train_steps = 6;
  a.batch_tokens = 256;
  a.write_model = false;
  train_run(a);
  TrainConfig b = a;
  b.out_dir = fixture().root + "/unpacked-pieces";
  fs::remove_all(b.out_dir);
  b.stop_after = 3;
  train_run(b);
  b.stop_after = 0;
  b.resume = true;
  b.packing = true;
  TrainResult r = train_run(b);
  EXPECT_EQ(r.steps, 6);
  EXPECT_EQ(read_json(b.out_dir + "/config.json")["packing"], false);
  auto ma = metrics(a.out_dir), mb = metrics(b.out_dir);
  ASSERT_EQ(mb.size(), ma.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    EXPECT_EQ(ma[i]["tokens"], mb[i]["tokens"]) << "step " << i + 1;
    EXPECT_EQ(ma[i]["loss"].get<double>(), mb[i]["loss"].get<double>()) << "step " << i + 1;
  }
}

TEST(Trainer, ACheckpointFromBeforePackingResumesUnpacked) {
  // a checkpoint whose fingerprint has no "packing" (written before packing existed) trained unpacked
  TrainConfig c = base_config("before-packing");
  c.packing = false;
  c.train_steps = 4;
  c.stop_after = 2;
  c.write_model = false;
  train_run(c);
  const std::string state = checkpoint_latest(c.out_dir) + "/state.json";
  nlohmann::json j = read_json(state);
  ASSERT_TRUE(j["fingerprint"].contains("packing"));
  j["fingerprint"].erase("packing");
  write_json_atomic(state, j);
  c.stop_after = 0;
  c.resume = true;
  c.packing = true;
  TrainResult r = train_run(c);
  EXPECT_TRUE(r.finished);
  EXPECT_FALSE(r.packing);
}

TEST(Trainer, ResumeRefusesAChangedSetting) {
  TrainConfig a = base_config("changed");
  a.train_steps = 4;
  a.stop_after = 2;
  a.write_model = false;
  train_run(a);
  a.stop_after = 0;
  a.resume = true;
  a.objective = "uniform";
  EXPECT_HAS(error_of([&] { train_run(a); }), "objective");
}

TEST(Trainer, BadInputNamesTheFlag) {
  auto expect_error = [](TrainConfig c, const std::string& needle) {
    EXPECT_HAS(error_of([&] { train_run(c); }), needle);
  };
  TrainConfig c = base_config("bad");
  c.objective = "kd";
  expect_error(c, "--objective");
  c = base_config("bad");
  c.traces_path = fixture().root + "/none.jsonl";
  expect_error(c, "--traces");
  c = base_config("bad");
  c.epochs = 1;
  c.train_steps = 3;
  expect_error(c, "--train-steps");
  c = base_config("bad");
  c.model_dir = fixture().root;
  expect_error(c, "--model");
  c = base_config("bad");
  c.max_len = 100000;
  expect_error(c, "--max-len");
  c = base_config("bad");
  c.resume = true;
  expect_error(c, "--resume");
}

// ---- runs that must not go on -------------------------------------------------------------------

TEST(Trainer, ANonFiniteStepStopsTheRunNamingIt) {
  // lr 1e30: step 1 leaves weights of about 1e30 (AdamW moves each by about lr; the decay multiplies the
  // matrices by 1 - lr * 0.01 = -1e28), still finite; step 2's decay alone takes them to about 1e58, past
  // float32's range, if its loss or gradients have not overflowed already
  TrainConfig c = base_config("blowup");
  c.lr = 1e30;
  c.warmup = 0;
  c.train_steps = 10;
  c.checkpoint_every = 1;
  std::string e = train_error(c);
  EXPECT_NE(e.find("step 2 of 10: "), std::string::npos) << e;
  EXPECT_NE(e.find(" is not finite"), std::string::npos) << e;
  EXPECT_NE(e.find("checkpoint-00000001"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(c.out_dir + "/model"));
  // the last good checkpoint stays, and the log holds the good steps only
  EXPECT_EQ(read_json(c.out_dir + "/checkpoint.json")["latest"], "checkpoint-00000001");
  EXPECT_EQ(read_json(c.out_dir + "/checkpoint-00000001/state.json")["step"], 1);
  ASSERT_EQ(metrics(c.out_dir).size(), 1u);
  EXPECT_EQ(metrics(c.out_dir)[0]["step"], 1);
}

TEST(Trainer, AnInfiniteLearningRateIsRefusedBeforeTraining) {
  TrainConfig c = base_config("lr-inf");
  c.lr = std::numeric_limits<double>::infinity();
  EXPECT_EQ(train_error(c), "--lr must be finite and positive, got inf");
  EXPECT_FALSE(fs::exists(c.out_dir));
}

TEST(Trainer, ZeroTrainStepsAreRefusedBeforeTraining) {
  TrainConfig c = base_config("steps-0");
  c.train_steps = 0;
  EXPECT_EQ(train_error(c), "--train-steps must be at least 1, got 0");
  EXPECT_FALSE(fs::exists(c.out_dir));
}

TEST(Trainer, NanEpochsAreRefusedBeforeTraining) {
  TrainConfig c = base_config("epochs-nan");
  c.epochs = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(train_error(c), "--epochs must be finite and positive, got nan");
  EXPECT_FALSE(fs::exists(c.out_dir));
}

}  // namespace
}  // namespace steper
