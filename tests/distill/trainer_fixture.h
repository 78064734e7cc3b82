// A tiny model folder and a handful of traces for the trainer's tests, made once per test process.
#pragma once

#include <string>

#include "distill/trainer.h"

namespace steper {

struct TrainerFixture {
  std::string root, model, traces, tokenizer_json;
};
const TrainerFixture& trainer_fixture();

// A quiet, small-batch run of the fixture into root/<out> (the folder emptied first).
TrainConfig fixture_config(const std::string& out);

// Runs `config` expecting an Error; returns its message ("" and a test failure when none is thrown).
std::string train_error(const TrainConfig& config);

}  // namespace steper
