// The run's settings are checked before anything is loaded, each message naming the flag.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/io.h"
#include "distill/train_config.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

// A config that passes: a folder with the two files the check looks for.
TrainConfig valid() {
  static const std::string dir = [] {
    std::string d = "/tmp/steper-test-train-config-" + std::to_string(getpid());
    fs::create_directories(d);
    write_file_atomic(d + "/config.json", "{}");
    write_file_atomic(d + "/tokenizer.json", "{}");
    return d;
  }();
  TrainConfig c;
  c.model_dir = dir;
  c.traces_path = dir + "/traces.jsonl";
  c.out_dir = dir + "/out";
  return c;
}

std::string check_error(const TrainConfig& c) {
  try {
    train_config_check(c);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(TrainConfigCheck, DefaultsPass) { EXPECT_NO_THROW(train_config_check(valid())); }

TEST(TrainConfigCheck, LrInfIsRefused) {
  TrainConfig c = valid();
  c.lr = kInf;
  EXPECT_EQ(check_error(c), "--lr must be finite and positive, got inf");
}

TEST(TrainConfigCheck, LrNanIsRefused) {
  TrainConfig c = valid();
  c.lr = kNan;
  EXPECT_EQ(check_error(c), "--lr must be finite and positive, got nan");
}

TEST(TrainConfigCheck, LrZeroIsRefused) {
  TrainConfig c = valid();
  c.lr = 0;
  EXPECT_EQ(check_error(c), "--lr must be finite and positive, got 0");
}

TEST(TrainConfigCheck, ZeroTrainStepsAreRefused) {
  TrainConfig c = valid();
  c.train_steps = 0;
  EXPECT_EQ(check_error(c), "--train-steps must be at least 1, got 0");
}

TEST(TrainConfigCheck, NegativeTrainStepsAreRefused) {
  TrainConfig c = valid();
  c.train_steps = -3;
  EXPECT_EQ(check_error(c), "--train-steps must be at least 1, got -3");
}

TEST(TrainConfigCheck, ZeroTrainTokensAreRefused) {
  TrainConfig c = valid();
  c.train_tokens = 0;
  EXPECT_EQ(check_error(c), "--train-tokens must be at least 1, got 0");
}

TEST(TrainConfigCheck, NanEpochsAreRefused) {
  TrainConfig c = valid();
  c.epochs = kNan;
  EXPECT_EQ(check_error(c), "--epochs must be finite and positive, got nan");
}

TEST(TrainConfigCheck, InfiniteEpochsAreRefused) {
  TrainConfig c = valid();
  c.epochs = kInf;
  EXPECT_EQ(check_error(c), "--epochs must be finite and positive, got inf");
}

TEST(TrainConfigCheck, NegativeOrZeroEpochsAreRefused) {
  TrainConfig c = valid();
  c.epochs = -1.5;
  EXPECT_EQ(check_error(c), "--epochs must be finite and positive, got -1.5");
  c.epochs = 0.0;
  EXPECT_EQ(check_error(c), "--epochs must be finite and positive, got 0");
}

TEST(TrainConfigCheck, FractionalEpochsPass) {
  TrainConfig c = valid();
  c.epochs = 0.25;
  EXPECT_NO_THROW(train_config_check(c));
}

TEST(TrainConfigCheck, TwoBudgetsAreRefused) {
  TrainConfig c = valid();
  c.epochs = 1.0;
  c.train_tokens = 1000;
  EXPECT_EQ(check_error(c), "--epochs, --train-steps and --train-tokens: give at most one");
}

TEST(TrainConfigCheck, NonFiniteClipAndWeightDecayAreRefused) {
  TrainConfig c = valid();
  c.clip = kInf;
  EXPECT_EQ(check_error(c), "--clip must be finite and not negative, got inf");
  c = valid();
  c.weight_decay = kNan;
  EXPECT_EQ(check_error(c), "--weight-decay must be finite and not negative, got nan");
}

TEST(TrainConfigCheck, NegativeStopAfterIsRefused) {
  TrainConfig c = valid();
  c.stop_after = -1;
  EXPECT_EQ(check_error(c), "--stop-after must be at least 0, got -1");
}

TEST(TrainConfigCheck, AFolderWithoutConfigIsNotAModel) {
  TrainConfig c = valid();
  c.model_dir = "/nonexistent-model-dir";
  EXPECT_EQ(check_error(c), "/nonexistent-model-dir: --model: not a model folder (no config.json)");
}

TEST(TrainConfigCheck, TheRecordedConfigLeavesAnUnsetBudgetNull) {
  TrainConfig c = valid();
  c.train_steps = 7;
  nlohmann::json j = train_config_json(c);
  EXPECT_TRUE(j["epochs"].is_null());
  EXPECT_TRUE(j["train_tokens"].is_null());
  EXPECT_EQ(j["train_steps"], 7);
}

}  // namespace
}  // namespace steper
