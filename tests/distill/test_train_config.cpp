// The run's settings are checked before anything is loaded, each message naming the flag.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
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

// The message for a valid config changed by `edit`.
std::string refused(const std::function<void(TrainConfig&)>& edit) {
  TrainConfig c = valid();
  edit(c);
  return check_error(c);
}

TEST(TrainConfigCheck, DefaultsPass) { EXPECT_EQ(check_error(valid()), "(accepted)"); }

TEST(TrainConfigCheck, LrInfIsRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.lr = kInf; }), "--lr must be finite and positive, got inf");
}

TEST(TrainConfigCheck, LrNanIsRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.lr = kNan; }), "--lr must be finite and positive, got nan");
}

TEST(TrainConfigCheck, LrZeroIsRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.lr = 0; }), "--lr must be finite and positive, got 0");
}

TEST(TrainConfigCheck, ZeroTrainStepsAreRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.train_steps = 0; }), "--train-steps must be at least 1, got 0");
}

TEST(TrainConfigCheck, NegativeTrainStepsAreRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.train_steps = -3; }), "--train-steps must be at least 1, got -3");
}

TEST(TrainConfigCheck, ZeroTrainTokensAreRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.train_tokens = 0; }), "--train-tokens must be at least 1, got 0");
}

TEST(TrainConfigCheck, NanEpochsAreRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.epochs = kNan; }), "--epochs must be finite and positive, got nan");
}

TEST(TrainConfigCheck, InfiniteEpochsAreRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.epochs = kInf; }), "--epochs must be finite and positive, got inf");
}

TEST(TrainConfigCheck, NegativeOrZeroEpochsAreRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.epochs = -1.5; }), "--epochs must be finite and positive, got -1.5");
  EXPECT_EQ(refused([](TrainConfig& c) { c.epochs = 0.0; }), "--epochs must be finite and positive, got 0");
}

TEST(TrainConfigCheck, FractionalEpochsPass) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.epochs = 0.25; }), "(accepted)");
}

TEST(TrainConfigCheck, TwoBudgetsAreRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) {
              c.epochs = 1.0;
              c.train_tokens = 1000;
            }),
            "--epochs, --train-steps and --train-tokens: give at most one");
}

TEST(TrainConfigCheck, NonFiniteClipAndWeightDecayAreRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.clip = kInf; }), "--clip must be finite and not negative, got inf");
  EXPECT_EQ(refused([](TrainConfig& c) { c.weight_decay = kNan; }),
            "--weight-decay must be finite and not negative, got nan");
}

TEST(TrainConfigCheck, AMinLrRatioOutsideZeroToOneIsRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.min_lr_ratio = 1.5; }), "--min-lr-ratio must lie in [0, 1], got 1.5");
  EXPECT_EQ(refused([](TrainConfig& c) { c.min_lr_ratio = kNan; }), "--min-lr-ratio must lie in [0, 1], got nan");
  TrainConfig c = valid();
  c.min_lr_ratio = 0;
  EXPECT_NO_THROW(train_config_check(c));
}

TEST(TrainConfigCheck, NegativeStopAfterIsRefused) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.stop_after = -1; }), "--stop-after must be at least 0, got -1");
}

TEST(TrainConfigCheck, AFolderWithoutConfigIsNotAModel) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.model_dir = "/nonexistent-model-dir"; }), "/nonexistent-model-dir: --model: not a model folder (no config.json)");
}

TEST(TrainConfigCheck, ABfloat16BaseNeedsLora) {
  EXPECT_EQ(refused([](TrainConfig& c) { c.lora_base_bf16 = true; }), "--lora-base-bf16 needs --lora-rank");
  EXPECT_EQ(refused([](TrainConfig& c) { c.lora_base_bf16 = true, c.lora = LoraConfig(); }), "(accepted)");
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
