// The base student every demo objective starts from, and `steper pretrain-base` that makes it.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "demo/stage.h"

namespace steper {

// How the base student is pretrained: language modelling (every token scored, passages included) on the
// gold-evidence teacher-trace documents of a generated world other than the demo's, as a pretrained language
// model has read text. It teaches copying names from context, which distillation alone reaches only after
// millions of tokens. `steper pretrain-base` makes the base shipped in models/; `steper demo
// --pretrain-base` makes one inside the run.
struct BaseRecipe {
  uint64_t world_seed = 424242;
  int questions = 30000;   // many entities: the base must learn to copy, not memorise
  std::string size = "tiny";
  int vocab = 2048;
  int64_t tokens = 14000000;
  double lr = 2e-3;
  int64_t batch_tokens = 1024;
  int64_t warmup = 50;
  LoopOptions loop = demo_loop_default();  // the loop of the gold-evidence traces it reads
  uint64_t seed = 1;
  std::string from;  // a model folder to continue from instead of a fresh init ("": none); size and vocab
                     // are then its own
};

BaseRecipe base_recipe(bool quick);

// Builds a base student in work_dir (pretrain-world/, its index, gold traces, init/, base/), reusing finished
// stages; returns work_dir/base/model. Stage wall times are appended to times.
std::string pretrain_base(const BaseRecipe& recipe, const std::string& work_dir, nlohmann::json& times);

// `steper pretrain-base`: pretrain_base, then the model files and pretrain.json (recipe, training figures;
// with recipe.from, the pretrain.json found there as "continued_from") copied to out_dir.
int pretrain_base_command(const BaseRecipe& recipe, const std::string& work_dir, const std::string& out_dir);

// A pretrain.json's rounds (itself and each "continued_from" before it), their recipes' tokens in all and
// the generated worlds they read (distinct world seeds).
struct PretrainTotal {
  int rounds = 0;
  int64_t tokens = 0;
  int worlds = 0;
};
PretrainTotal pretrain_total(const nlohmann::json& pretrain_info);

// The base shipped with steper (the source tree's models/base-tiny).
std::string default_base_model();

}  // namespace steper
