// The metrics log: a fresh run starts empty, a resumed one keeps exactly the steps its checkpoint holds.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "common/error_of.h"
#include "core/error.h"
#include "core/io.h"
#include "distill/metrics_log.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

std::string run_dir(const std::string& name) {
  std::string d = "/tmp/steper-test-metrics-" + std::to_string(getpid()) + "-" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TrainStepRecord record(int64_t step) {
  TrainStepRecord r;
  r.step = step;
  r.loss = 3.0 / static_cast<double>(step);
  r.task_loss = {2.0, std::numeric_limits<double>::quiet_NaN(), 4.0};
  r.sigma = {1.0, 1.5, 0.5};
  r.tokens = 100;
  r.total_tokens = 100 * step;
  return r;
}

std::vector<int64_t> steps_in(const std::string& dir) {
  std::vector<int64_t> out;
  for (const auto& j : read_jsonl(dir + "/metrics.jsonl")) out.push_back(j["step"].get<int64_t>());
  return out;
}

TEST(MetricsLog, AFreshRunStartsAnEmptyLog) {
  std::string d = run_dir("fresh");
  write_file_atomic(d + "/metrics.jsonl", R"({"step": 1, "loss": 9})" "\n");
  {
    MetricsLog log(d, std::nullopt);
    log.append(record(1));
  }
  auto lines = read_jsonl(d + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["loss"].get<double>(), 3.0);
}

TEST(MetricsLog, ALineHoldsTheRecordWithAbsentTasksNull) {
  std::string d = run_dir("line");
  {
    MetricsLog log(d, std::nullopt);
    log.append(record(2));
  }
  nlohmann::json j = read_jsonl(d + "/metrics.jsonl").at(0);
  EXPECT_EQ(j["step"], 2);
  EXPECT_EQ(j["loss"].get<double>(), 1.5);
  EXPECT_EQ(j["loss_init"].get<double>(), 2.0);
  EXPECT_TRUE(j["loss_exp"].is_null());
  EXPECT_EQ(j["loss_agg"].get<double>(), 4.0);
  EXPECT_EQ(j["sigma_exp"].get<double>(), 1.5);
  EXPECT_EQ(j["total_tokens"], 200);
}

TEST(MetricsLog, AResumeKeepsTheStepsUpToItsCheckpoint) {
  // steps 1-5 logged, then a line torn by a kill; the checkpoint holds step 3
  std::string d = run_dir("resume");
  std::string text;
  for (int s = 1; s <= 5; ++s) text += R"({"step": )" + std::to_string(s) + "}\n";
  text += R"({"step": 6, "lo)";
  write_file_atomic(d + "/metrics.jsonl", text);
  {
    MetricsLog log(d, int64_t{3});
    log.append(record(4));
  }
  EXPECT_EQ(steps_in(d), (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST(MetricsLog, ALineWithoutAStepNamesFileAndLine) {
  std::string d = run_dir("bad");
  write_file_atomic(d + "/metrics.jsonl", R"({"step": 1})" "\n" R"({"step": "two"})" "\n");
  EXPECT_HAS(error_of([&] { MetricsLog log(d, int64_t{1}); }), "metrics.jsonl:2: field \"step\"");
}

TEST(MetricsLog, PlotsDrawEveryTaskFromTheLog) {
  std::string d = run_dir("plots");
  {
    MetricsLog log(d, std::nullopt);
    for (int s = 1; s <= 5; ++s) log.append(record(s));
  }
  train_write_plots(d);
  std::string loss = read_file(d + "/loss.svg"), sigma = read_file(d + "/sigma.svg");
  for (const char* name : {"L_init", "L_exp", "L_agg", "objective"}) EXPECT_NE(loss.find(name), std::string::npos) << name;
  for (const char* name : {"sigma_init", "sigma_exp", "sigma_agg"}) EXPECT_NE(sigma.find(name), std::string::npos) << name;
}

TEST(MetricsLog, ProgressTextShowsAbsentTasksAsADash) {
  EXPECT_EQ(metrics_progress_text(record(1)), "loss 3.000 [init 2.000 exp - agg 4.000] sigma 1.00/1.50/0.50 0 tok/s");
}

}  // namespace
}  // namespace steper
