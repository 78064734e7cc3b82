// Traces in, tokenized examples, token-budget batches.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "common/error_of.h"
#include "core/error.h"
#include "distill/data.h"

namespace steper {
namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/steper-test-distill-" + std::to_string(getpid()) + "-" + name;
}

// one id per character: lengths are easy to count by hand
std::vector<int32_t> char_encode(const std::string& s, bool = false) {
  std::vector<int32_t> ids;
  for (unsigned char c : s) ids.push_back(c);
  return ids;
}

StepExample example(const std::string& id, Task task, const std::string& prompt, const std::string& target) {
  StepExample e;
  e.id = id;
  e.task = task;
  e.prompt = prompt;
  e.target = target;
  return e;
}

// ---- traces ----------------------------------------------------------------------------------------

TEST(DistillData, LoadTracesSkipsNotKept) {
  std::string path = temp_path("traces.jsonl");
  {
    std::ofstream f(path);
    f << R"({"id":"a","question":"Q1?","answers":["x"],"steps":[{"query":"Q1?","passages":[],"sentence":"So the answer is: x."}],"answer":"x","answered":true,"correct":true,"kept":true})" "\n";
    f << R"({"id":"b","question":"Q2?","answers":["y"],"steps":[],"answer":"","answered":false,"correct":false,"kept":false})" "\n";
    f << "\n";
    f << R"({"id":"c","question":"Q3?","answers":["z"],"steps":[{"query":"Q3?","passages":[],"sentence":"So the answer is: z."}],"answer":"z","answered":true,"correct":true})" "\n";
    f << R"({"id":"d","question":"Q4?","answers":["z"],"steps":[],"answer":"w","answered":true,"correct":false})" "\n";
  }
  TraceLoadStats st;
  std::vector<Trace> traces = load_traces(path, &st);
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(traces[0].id, "a");
  EXPECT_EQ(traces[1].id, "c");
  EXPECT_EQ(st.lines, 4u);
  EXPECT_EQ(st.not_kept, 2u);
  std::remove(path.c_str());
}

TEST(DistillData, LoadTracesErrorsNameFileAndLine) {
  std::string path = temp_path("bad.jsonl");
  {
    std::ofstream f(path);
    f << R"({"id":"a","question":"Q1?","answers":["x"],"steps":[{"sentence":"So the answer is: x."}],"answer":"x","kept":true})" "\n";
    f << R"({"id":"b","question":"Q2?","answers":["x"],"steps":[],"kept":"yes"})" "\n";
  }
  try {
    load_traces(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(path + ":2"), std::string::npos) << m;
    EXPECT_NE(m.find("kept"), std::string::npos) << m;
  }
  std::remove(path.c_str());
  EXPECT_HAS(error_of([&] { load_traces(temp_path("missing.jsonl")); }), "--traces");
}

TEST(DistillData, VanillaKeepsOnlyAggregation) {
  std::vector<StepExample> ex = {example("q1-init", Task::kInit, "p", "t"), example("q1-exp2", Task::kExp, "p", "t"),
                                 example("q1-agg", Task::kAgg, "p", "t"), example("q2-init", Task::kInit, "p", "t"),
                                 example("q2-agg", Task::kAgg, "p", "t")};
  std::vector<StepExample> v = select_examples(ex, true);
  ASSERT_EQ(v.size(), 2u);
  for (const auto& e : v) EXPECT_EQ(e.task, Task::kAgg);
  EXPECT_EQ(select_examples(ex, false).size(), 5u);
}

// ---- tokenization ----------------------------------------------------------------------------------

TEST(DistillData, TokenizeAppendsEosAfterAggOnly) {
  TokenizeOptions o;
  o.max_len = 100;
  o.eos_id = 999;
  o.bos_id = 998;
  TokenizeStats st;
  auto t = tokenize_examples({example("a", Task::kInit, "Q: x\nA:", " r1."), example("b", Task::kAgg, "Q: x\nA:", " r1. ans")},
                             char_encode, o, &st);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].ids.front(), 998);
  EXPECT_EQ(t[0].target_start, 1 + 7);
  EXPECT_EQ(t[0].target_length(), 4);  // no EOS after init
  EXPECT_EQ(t[1].target_length(), 9);  // " r1. ans" + EOS
  EXPECT_EQ(t[1].ids.back(), 999);
  EXPECT_EQ(st.prompt_tokens, 16u);
  EXPECT_EQ(st.target_tokens, 13u);
  EXPECT_EQ(st.per_task[0], 1u);
  EXPECT_EQ(st.per_task[2], 1u);
}

TEST(DistillData, TokenizeTruncatesPromptFromTheLeft) {
  TokenizeOptions o;
  o.max_len = 8;
  TokenizeStats st;
  auto t = tokenize_examples({example("a", Task::kExp, "abcdefghij", "XYZ"), example("b", Task::kExp, "p", "0123456789")},
                             char_encode, o, &st);
  ASSERT_EQ(t.size(), 1u);  // "b": the target alone does not fit
  EXPECT_EQ(st.dropped_too_long, 1u);
  EXPECT_EQ(st.truncated, 1u);
  std::vector<int32_t> expect = char_encode("fghijXYZ");  // the prompt's end is kept
  EXPECT_EQ(t[0].ids, expect);
  EXPECT_EQ(t[0].target_start, 5);
}

// ---- batches ---------------------------------------------------------------------------------------

std::vector<TokenizedExample> synthetic_data(size_t n, uint64_t seed) {
  std::vector<TokenizedExample> d;
  uint64_t st = seed;
  for (size_t i = 0; i < n; ++i) {
    TokenizedExample t;
    int len = 20 + static_cast<int>(splitmix64(st) % 200);
    t.ids.assign(static_cast<size_t>(len), 7);
    t.target_start = len - 5;
    t.task = static_cast<Task>(i % 3);
    d.push_back(t);
  }
  return d;
}

TEST(DistillData, MixedBatchesHoldAboutTheBudget) {
  auto data = synthetic_data(600, 8);
  BatchOptions o;
  o.batch_tokens = 2048;
  int64_t all = 0;
  for (const auto& d : data) all += d.length();
  auto batches = plan_epoch(data, 0, o);
  EXPECT_NEAR(static_cast<double>(batches.size()), static_cast<double>(all) / 2048.0, 1.0);
  for (const auto& b : batches) {
    EXPECT_EQ(b.parts.size(), 3u);
    EXPECT_NEAR(static_cast<double>(b.tokens), 2048.0, 0.25 * 2048.0);
  }
}

TEST(DistillData, BatchesCoverEveryExampleOnceWithinBudget) {
  auto data = synthetic_data(500, 1);
  BatchOptions o;
  o.batch_tokens = 1024;
  o.seed = 3;
  auto batches = plan_epoch(data, 0, o);
  std::vector<int> seen(data.size(), 0);
  int64_t padded = 0, real = 0;
  size_t all_tasks = 0;
  for (const auto& b : batches) {
    int64_t tok = 0;
    std::set<int> tasks;
    for (const auto& part : b.parts) {
      int32_t mx = 0;
      for (uint32_t i : part.examples) {
        seen[i]++;
        mx = std::max(mx, data[i].length());
        tok += data[i].length();
        tasks.insert(static_cast<int>(data[i].task));
      }
      EXPECT_EQ(part.max_len, mx);
    }
    all_tasks += tasks.size() == 3;
    EXPECT_EQ(b.tokens, tok);
    EXPECT_LE(b.padded_tokens(), 1024 + 3 * 220);  // about the budget: each task's share, give or take a row
    padded += b.padded_tokens();
    real += b.tokens;
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  // bucketing keeps padding small; a random order of these lengths wastes about a third
  EXPECT_LT(1.0 - static_cast<double>(real) / static_cast<double>(padded), 0.10);
  // nearly every batch scores all three tasks (the tasks' parts run out at about the same time)
  EXPECT_GE(static_cast<double>(all_tasks), 0.9 * static_cast<double>(batches.size()));
}

TEST(DistillData, EpochOrderIsDeterministicAndChanges) {
  auto data = synthetic_data(300, 2);
  BatchOptions o;
  o.seed = 11;
  auto order = [&](int64_t epoch, uint64_t seed) {
    BatchOptions oo = o;
    oo.seed = seed;
    std::vector<uint32_t> all;
    for (const auto& b : plan_epoch(data, epoch, oo))
      for (const auto& p : b.parts) all.insert(all.end(), p.examples.begin(), p.examples.end());
    return all;
  };
  EXPECT_EQ(order(0, 11), order(0, 11));
  EXPECT_NE(order(0, 11), order(1, 11));
  EXPECT_NE(order(0, 11), order(0, 12));
}

TEST(DistillData, OversizedExampleGetsItsOwnBatch) {
  auto data = synthetic_data(10, 5);
  data[3].ids.assign(300, 1);
  data[3].target_start = 290;
  BatchOptions o;
  o.batch_tokens = 256;
  o.mix_tasks = false;
  {
    bool found = false;
    for (const auto& b : plan_epoch(data, 0, o))
      for (const auto& p : b.parts)
        if (std::find(p.examples.begin(), p.examples.end(), 3u) != p.examples.end()) {
          EXPECT_EQ(p.examples.size(), 1u);
          found = true;
        }
    EXPECT_TRUE(found);
  }
}

TEST(DistillData, UnmixedBatchesAreOneRectangle) {
  auto data = synthetic_data(200, 6);
  BatchOptions o;
  o.mix_tasks = false;
  o.batch_tokens = 1024;
  size_t n = 0;
  for (const auto& b : plan_epoch(data, 0, o)) {
    ASSERT_EQ(b.parts.size(), 1u);
    if (b.parts[0].examples.size() > 1) {
      EXPECT_LE(b.padded_tokens(), 1024);
    }
    n += b.num_examples();
  }
  EXPECT_EQ(n, data.size());
}

// ---- the run's stream of micro-batches -------------------------------------------------------------

// The examples of a batch, in order (what identifies it).
std::vector<uint32_t> members(const Batch& b) {
  std::vector<uint32_t> out;
  for (const auto& p : b.parts) out.insert(out.end(), p.examples.begin(), p.examples.end());
  return out;
}

TEST(BatchStream, MicroBatchesRunThroughTheEpochsInOrder) {
  auto data = synthetic_data(120, 9);
  BatchOptions o;
  o.batch_tokens = 1024;
  o.seed = 4;
  std::vector<std::vector<Batch>> epochs;
  for (int64_t e = 0; e < 3; ++e) epochs.push_back(plan_epoch(data, e, o));
  BatchStream stream(data, o);
  int64_t g = 0;
  for (int64_t e = 0; e < 3; ++e)
    for (const Batch& b : epochs[static_cast<size_t>(e)]) {
      int64_t epoch = -1;
      EXPECT_EQ(members(stream.at(g, &epoch)), members(b)) << "micro-batch " << g;
      EXPECT_EQ(epoch, e) << "micro-batch " << g;
      ++g;
    }
  // a resumed run asks for a later batch first: the same batch
  BatchStream resumed(data, o);
  EXPECT_EQ(members(resumed.at(g - 1)), members(epochs[2].back()));
  EXPECT_EQ(members(resumed.at(0)), members(epochs[0].front()));
}

TEST(BatchStream, NoExamplesIsAnError) {
  std::vector<TokenizedExample> none;
  BatchStream stream(none, BatchOptions{});
  EXPECT_THROW(stream.at(0), Error);
}

TEST(PlanTotalSteps, StepsAreTakenAsGiven) {
  auto data = synthetic_data(60, 3);
  BatchStream stream(data, BatchOptions{});
  EXPECT_EQ(plan_total_steps(stream, 4, std::nullopt, int64_t{17}, std::nullopt), 17);
}

TEST(PlanTotalSteps, ATokenBudgetEndsAtTheFirstStepThatReachesIt) {
  auto data = synthetic_data(100, 3);
  BatchOptions o;
  o.batch_tokens = 512;
  std::vector<Batch> e0 = plan_epoch(data, 0, o), e1 = plan_epoch(data, 1, o);
  std::vector<int64_t> tokens;  // per micro-batch, two epochs
  for (const auto& b : e0) tokens.push_back(b.tokens);
  for (const auto& b : e1) tokens.push_back(b.tokens);
  int64_t epoch_tokens = 0;
  for (const auto& b : e0) epoch_tokens += b.tokens;
  const int64_t budget = epoch_tokens + 10;  // reached early in epoch 2
  // grad_accum 2: step k covers micro-batches 2k-2 and 2k-1
  int64_t seen = 0, steps = 0;
  for (size_t g = 0; seen < budget; g += 2, ++steps) seen += tokens.at(g) + tokens.at(g + 1);
  BatchStream stream(data, o);
  EXPECT_EQ(plan_total_steps(stream, 2, std::nullopt, std::nullopt, budget), steps);
}

TEST(PlanTotalSteps, EpochsCountMicroBatchesRoundedDownToSteps) {
  auto data = synthetic_data(200, 3);
  BatchOptions o;
  o.batch_tokens = 512;
  const auto n0 = static_cast<int64_t>(plan_epoch(data, 0, o).size());
  const auto n1 = static_cast<int64_t>(plan_epoch(data, 1, o).size());
  BatchStream stream(data, o);
  EXPECT_EQ(plan_total_steps(stream, 3, 1.5, std::nullopt, std::nullopt), (n0 + n1 / 2) / 3);
  EXPECT_EQ(plan_total_steps(stream, 1, std::nullopt, std::nullopt, std::nullopt), n0);  // no budget: 1 epoch
  EXPECT_EQ(plan_total_steps(stream, 1, 1e-9, std::nullopt, std::nullopt), 1);           // at least one step
}

TEST(PlanTotalSteps, ABudgetOfMoreThanTenThousandPassesIsRefused) {
  auto data = synthetic_data(30, 3);
  BatchStream stream(data, BatchOptions{});
  int64_t epoch_tokens = 0;
  for (const auto& d : data) epoch_tokens += d.length();  // every example once per epoch
  try {
    plan_total_steps(stream, 1, std::nullopt, std::nullopt, epoch_tokens * 20000);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--train-tokens " + std::to_string(epoch_tokens * 20000) + ": more than 10000"),
              std::string::npos)
        << e.what();
  }
  EXPECT_HAS(error_of([&] { plan_total_steps(stream, 1, 1e12, std::nullopt, std::nullopt); }),
             "--epochs 1e+12: more than 10000");
  EXPECT_GT(plan_total_steps(stream, 1, 50.0, std::nullopt, std::nullopt), 0);
}

}  // namespace
}  // namespace steper
