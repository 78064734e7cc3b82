// A deterministic (by seed) fictional multi-hop world: made-up entities, one short passage each,
// bridge (2-4 hop) and comparison questions with supporting facts, HotpotQA format (docs/DESIGN.md section 5).
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

// Throws steper::Error when the options are invalid or cannot give that many distinct questions.
// Fast enough for large corpora: 100,000 entities with no questions take well under a second.
World world_generate(const WorldOptions& opts);
// DIR/corpus.jsonl and DIR/{train,dev,test}.json (HotpotQA format with supporting facts).
void world_write(const World& world, const std::string& dir);

// The relations the world states, with every wording a passage may use for them ({S}/{s} the subject,
// {O}/{o} the object, {V} a number); object is an entity kind, or "number" for years and populations.
struct WorldRelation {
  std::string name, subject, object;
  std::vector<std::string> wordings;
};
std::vector<WorldRelation> world_relations();

}  // namespace steper
