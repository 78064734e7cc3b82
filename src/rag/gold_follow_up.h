// The gold Self-Ask writer's follow-up questions (rag/loop.h GoldReader): the follow-up of a question's
// s-th supporting fact asks for that hop's relation of the fact's entity (its paragraph's title). The
// relation is the generated world's (data/world_relations.h) whose wording the supporting sentence has,
// asked in one of that relation's question wordings, chosen by a hash of the question id, the hop and
// a seed; a sentence in no world wording is asked about generically ("What is known about <title>?").
#pragma once

#include <cstdint>
#include <string>

#include "core/types.h"

namespace steper {

// The relation name of a sentence about `subject` in the world's wordings ("" when none fits).
std::string world_relation_of(const std::string& sentence, const std::string& subject);

// The follow-up question of supporting fact `fact` (0-based) of `question`.
std::string gold_follow_up(const Question& question, size_t fact, uint64_t seed);

}  // namespace steper
