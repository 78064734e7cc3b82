// The trainer end to end on a tiny model: it learns, writes its outputs, and resumes bit for bit.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/io.h"
#include "core/trace_json.h"
#include "distill/trainer.h"
#include "model/llama.h"
#include "text/tokenizer.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

// ---- fixtures: a tiny model folder and a handful of traces -----------------------------------------

const char* kCities[] = {"Varnholt", "Ostrelle", "Quenby", "Darrow", "Feliska", "Morvane"};
const char* kPeople[] = {"Alda Merrin", "Bron Tesk", "Cilla Oaken", "Dov Harrel", "Esme Quill", "Fenn Laro"};

std::vector<Trace> make_traces() {
  std::vector<Trace> out;
  for (int i = 0; i < 6; ++i) {
    std::string person = kPeople[i], city = kCities[i], org = std::string(kCities[(i + 2) % 6]) + " Institute";
    Trace t;
    t.id = "q" + std::to_string(i);
    t.question = "In which city is the institute where " + person + " works?";
    t.answers = {city};
    t.answer = city;
    t.answered = t.correct = true;
    TraceStep s1, s2, s3;
    s1.query = t.question;
    s1.retrieved = {{{"p" + std::to_string(i), person, person + " works at the " + org + "."}, 3.0},
                    {{"x" + std::to_string(i), "Other", "Nothing to see here."}, 1.0}};
    s1.sentence = person + " works at the " + org + ".";
    s2.query = s1.sentence;
    s2.retrieved = {{{"o" + std::to_string(i), org, "The " + org + " is in " + city + "."}, 2.5}};
    s2.sentence = "The " + org + " is in " + city + ".";
    s3.query = s2.sentence;
    s3.sentence = "So the answer is: " + city + ".";
    t.steps = {s1, s2, s3};
    out.push_back(t);
  }
  return out;
}

struct Fixture {
  std::string root, model, traces;
};

const Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    x.root = "/tmp/steper-test-trainer-" + std::to_string(getpid());
    fs::remove_all(x.root);
    fs::create_directories(x.root);
    std::vector<Trace> traces = make_traces();
    std::string lines;
    std::vector<std::string> texts;
    for (size_t i = 0; i < traces.size(); ++i) {
      nlohmann::json j = to_json(traces[i]);
      j["kept"] = true;
      lines += j.dump() + "\n";
      for (const auto& s : traces[i].steps) {
        texts.push_back(s.sentence);
        for (const auto& p : s.retrieved) texts.push_back(p.passage.title + "\n" + p.passage.text);
      }
      texts.push_back(traces[i].question);
    }
    nlohmann::json dropped = to_json(traces[0]);
    dropped["id"] = "dropped";
    dropped["kept"] = false;
    lines += dropped.dump() + "\n";
    x.traces = x.root + "/traces.jsonl";
    write_file_atomic(x.traces, lines);
    texts.push_back("Wikipedia Title: Q: A: So the answer is:");
    BpeTrainOptions bo;
    bo.vocab_size = 400;
    std::string tok_json = bpe_train(texts, bo);
    Tokenizer tok = Tokenizer::from_json_string(tok_json, "test tokenizer");
    LlamaConfig c;
    c.vocab_size = static_cast<int64_t>(tok.vocab_size());
    c.hidden_size = 32;
    c.intermediate_size = 64;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 2;
    c.head_dim = 16;
    c.max_position_embeddings = 512;
    c.tie_word_embeddings = true;
    c.eos_token_id = tok.token_to_id("<|endoftext|>");
    torch::manual_seed(1);
    Llama model(c);
    x.model = x.root + "/model";
    llama_save(model, x.model, tok_json);
    return x;
  }();
  return f;
}

TrainConfig base_config(const std::string& out) {
  TrainConfig c;
  c.model_dir = fixture().model;
  c.traces_path = fixture().traces;
  c.out_dir = fixture().root + "/" + out;
  c.batch_tokens = 512;
  c.lr = 1e-2;
  c.warmup = 3;
  c.seed = 5;
  c.quiet = true;
  c.threads = 1;
  fs::remove_all(c.out_dir);
  return c;
}

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
  // sigma moved off 1 for the tasks it trains
  EXPECT_NE(r.sigma[2], 1.0);
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

TEST(Trainer, SteperLossIsTheWeightedSumOfTaskLosses) {
  // with one micro-batch per step the logged objective must equal sum_j 0.5 exp(-s_j) L_j + 0.5 s_j,
  // where s_j is the value *before* the step's update; check it on step 1 where s = 0
  TrainConfig c = base_config("formula");
  c.train_steps = 1;
  c.batch_tokens = 100000;  // everything in one batch: every task present
  c.write_model = false;
  std::vector<TrainStepRecord> recs;
  train_run(c, [&](const TrainStepRecord& s) { recs.push_back(s); });
  ASSERT_EQ(recs.size(), 1u);
  double expect = 0;
  for (int j = 0; j < 3; ++j) expect += 0.5 * recs[0].task_loss[static_cast<size_t>(j)];
  EXPECT_NEAR(recs[0].loss, expect, 1e-4);
  // uniform: the mean of per-example losses, which lies between the smallest and largest task loss
  TrainConfig u = base_config("formula-uniform");
  u.train_steps = 1;
  u.batch_tokens = 100000;
  u.objective = "uniform";
  u.write_model = false;
  std::vector<TrainStepRecord> ur;
  train_run(u, [&](const TrainStepRecord& s) { ur.push_back(s); });
  double lo = std::min({ur[0].task_loss[0], ur[0].task_loss[1], ur[0].task_loss[2]});
  double hi = std::max({ur[0].task_loss[0], ur[0].task_loss[1], ur[0].task_loss[2]});
  EXPECT_GE(ur[0].loss, lo - 1e-6);
  EXPECT_LE(ur[0].loss, hi + 1e-6);
  EXPECT_EQ(ur[0].sigma[0], 1.0);
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

TEST(Trainer, ResumeRefusesAChangedSetting) {
  TrainConfig a = base_config("changed");
  a.train_steps = 4;
  a.stop_after = 2;
  a.write_model = false;
  train_run(a);
  a.stop_after = 0;
  a.resume = true;
  a.objective = "uniform";
  try {
    train_run(a);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("objective"), std::string::npos) << e.what();
  }
}

TEST(Trainer, BadInputNamesTheFlag) {
  auto expect_error = [](TrainConfig c, const std::string& needle) {
    try {
      train_run(c);
      FAIL() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
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

}  // namespace
}  // namespace steper
