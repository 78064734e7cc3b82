// Checkpoints that cannot be trusted are refused in one line naming the file and field, before they
// change anything: no crash, no "finished" run from a step it never reached, no NaN model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "core/io.h"
#include "distill/checkpoint.h"
#include "trainer_fixture.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

// A run of 4 steps interrupted after 2 (its checkpoint: step 2), ready to resume.
TrainConfig interrupted(const std::string& name) {
  TrainConfig c = fixture_config(name);
  c.train_steps = 4;
  c.stop_after = 2;
  train_run(c);
  c.stop_after = 0;
  c.resume = true;
  return c;
}

std::string checkpoint_dir(const TrainConfig& c) { return c.out_dir + "/checkpoint-00000002"; }

void edit_state(const TrainConfig& c, const std::function<void(nlohmann::json&)>& edit) {
  std::string path = checkpoint_dir(c) + "/state.json";
  nlohmann::json state = read_json(path);
  edit(state);
  write_json_atomic(path, state);
}

void flip_byte(const std::string& path, size_t at) {
  std::string data = read_file(path);
  ASSERT_LT(at, data.size());
  data[at] = static_cast<char>(data[at] ^ 0x5a);
  write_file_atomic(path, data);
}

// The resume fails naming every needle, in one line, and writes no model.
void expect_refused(const TrainConfig& c, const std::vector<std::string>& needles) {
  std::string e = train_error(c);
  for (const auto& n : needles) EXPECT_NE(e.find(n), std::string::npos) << "no \"" << n << "\" in: " << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(c.out_dir + "/model")) << e;
}

TEST(Checkpoint, Fnv1a64MatchesThePublishedValues) {
  // test vectors of the FNV reference (offset basis; "a"; "foobar")
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Checkpoint, StateRecordsTheSizeOfEachFile) {
  TrainConfig c = interrupted("ckpt-record");
  nlohmann::json state = read_json(checkpoint_dir(c) + "/state.json");
  for (const char* f : {"weights.pt", "optimizer.pt"}) {
    EXPECT_EQ(state["files"][f]["bytes"].get<uint64_t>(), fs::file_size(checkpoint_dir(c) + "/" + f)) << f;
    EXPECT_EQ(state["files"][f]["fnv1a64"].get<std::string>().size(), 16u) << f;
  }
}

TEST(Checkpoint, ANegativeStepIsRefused) {
  TrainConfig c = interrupted("ckpt-negative");
  edit_state(c, [](nlohmann::json& s) { s["step"] = -5; });
  expect_refused(c, {"state.json", "\"step\" is -5", "outside [0, 4]"});
}

TEST(Checkpoint, AStepBeyondTheRunIsRefused) {
  TrainConfig c = interrupted("ckpt-huge");
  edit_state(c, [](nlohmann::json& s) { s["step"] = int64_t{1000000000000}; });
  expect_refused(c, {"state.json", "\"step\" is 1000000000000", "outside [0, 4]"});
}

TEST(Checkpoint, AStepThatDisagreesWithTheFolderIsRefused) {
  TrainConfig c = interrupted("ckpt-other-step");
  edit_state(c, [](nlohmann::json& s) { s["step"] = 3; });
  expect_refused(c, {"state.json", "\"step\" is 3", "checkpoint-00000002"});
}

TEST(Checkpoint, AStepOfTheWrongTypeNamesTheField) {
  TrainConfig c = interrupted("ckpt-type");
  edit_state(c, [](nlohmann::json& s) { s["step"] = "two"; });
  expect_refused(c, {"state.json", "field \"step\" must be an integer"});
}

TEST(Checkpoint, TokenCountsOtherThanTheRunsAreRefused) {
  // steps 1-2 process what the records of an uninterrupted run say they do
  TrainConfig u = fixture_config("ckpt-tokens-whole");
  u.train_steps = 4;
  u.write_model = false;
  int64_t tokens = 0;
  train_run(u, [&](const TrainStepRecord& r) { tokens += r.step <= 2 ? r.tokens : 0; });
  TrainConfig c = interrupted("ckpt-tokens");
  EXPECT_EQ(read_json(checkpoint_dir(c) + "/state.json")["tokens"], tokens);
  edit_state(c, [](nlohmann::json& s) { s["tokens"] = s["tokens"].get<int64_t>() - 1; });
  expect_refused(c, {"state.json", "\"tokens\" is " + std::to_string(tokens - 1), "process " + std::to_string(tokens)});
}

// One byte of `file` changed, its size kept: the hash tells.
void expect_damage_refused(const std::string& run, const std::string& file) {
  TrainConfig c = interrupted(run);
  std::string path = checkpoint_dir(c) + "/" + file;
  flip_byte(path, fs::file_size(path) / 2);
  expect_refused(c, {file, "damaged"});
}

TEST(Checkpoint, ADamagedOptimizerFileIsRefused) { expect_damage_refused("ckpt-optimizer", "optimizer.pt"); }

TEST(Checkpoint, DamagedWeightsAreRefused) { expect_damage_refused("ckpt-weights", "weights.pt"); }

TEST(Checkpoint, NonFiniteSigmaIsRefusedEvenWithAMatchingRecord) {
  // a checkpoint as a run gone wrong would write it: sigma NaN, size and hash recorded to match
  TrainConfig c = interrupted("ckpt-nan-sigma");
  const std::string path = checkpoint_dir(c) + "/weights.pt";
  torch::serialize::InputArchive in;
  in.load_from(path);
  torch::serialize::OutputArchive out;
  for (const std::string& key : in.keys()) {
    torch::Tensor t;
    in.read(key, t);
    out.write(key, key == "steper.log_var" ? torch::full_like(t, NAN) : t);
  }
  out.save_to(path);
  const std::string bytes = read_file(path);
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(bytes)));
  edit_state(c, [&](nlohmann::json& s) {
    s["files"]["weights.pt"] = {{"bytes", bytes.size()}, {"fnv1a64", hash}};
  });
  expect_refused(c, {"weights.pt", "steper.log_var", "not finite"});
}

TEST(Checkpoint, ATruncatedOptimizerFileIsRefused) {
  TrainConfig c = interrupted("ckpt-short");
  std::string path = checkpoint_dir(c) + "/optimizer.pt";
  std::string data = read_file(path);
  write_file_atomic(path, data.substr(0, data.size() - 100));
  expect_refused(c, {"optimizer.pt", std::to_string(data.size() - 100) + " bytes", std::to_string(data.size())});
}

TEST(Checkpoint, ACheckpointWithoutFileRecordsIsRefused) {
  TrainConfig c = interrupted("ckpt-no-files");
  edit_state(c, [](nlohmann::json& s) { s.erase("files"); });
  expect_refused(c, {"state.json", "missing field \"files\""});
}

TEST(Checkpoint, APointerOutsideTheRunIsRefused) {
  TrainConfig c = interrupted("ckpt-pointer");
  write_json_atomic(c.out_dir + "/checkpoint.json", {{"latest", "../ckpt-record/checkpoint-00000002"}});
  expect_refused(c, {"checkpoint.json", "field \"latest\""});
}

TEST(Checkpoint, AnIntactCheckpointStillResumesToTheEnd) {
  TrainConfig c = interrupted("ckpt-intact");
  TrainResult r = train_run(c);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.steps, 4);
  EXPECT_TRUE(fs::exists(c.out_dir + "/model/model.safetensors"));
}

}  // namespace
}  // namespace steper
