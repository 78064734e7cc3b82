// A deterministic (by seed) fictional multi-hop world: made-up entities, one short passage each,
// bridge (2-4 hop) and comparison questions with supporting facts, HotpotQA format (DESIGN.md section 5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

struct WorldOptions {
  uint64_t seed = 1;
  int n_train = 2000;
  int n_dev = 200;
  int n_test = 300;
  int n_entities = 0;  // 0 = chosen from the question counts
};

struct World {
  std::vector<Passage> corpus;
  std::vector<Question> train, dev, test;
};

World world_generate(const WorldOptions& opts);
// DIR/corpus.jsonl and DIR/{train,dev,test}.json (HotpotQA format with supporting facts).
void world_write(const World& world, const std::string& dir);

}  // namespace steper
