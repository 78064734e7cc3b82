// Made-up, pronounceable, typed names for the world's entities: "Varlo Menteth" (person),
// "Brelith" (city), "Kelvaria" (country), "Quarn Institute" (organization), "The Korrin Wolves"
// (band), "The Ashen Vow" (film), "A Quiet Harbor" (book). Every name is unique.
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "data/world_rng.h"

namespace steper {

class WorldNames {
 public:
  explicit WorldNames(WorldRng& rng) : rng_(rng) {}
  // Person names come from given-name and surname pools sized for `n_persons`, so surnames are
  // shared within families of namesakes (near misses for retrieval).
  void plan_persons(size_t n_persons);
  std::string person();
  std::string city();
  std::string country();
  std::string organization();
  std::string band();
  std::string film();
  std::string book();

 private:
  std::string word(int syllables);      // a fresh made-up word, capitalized, never used before
  bool claim(const std::string& name) { return names_.insert(name).second; }

  WorldRng& rng_;
  std::unordered_set<std::string> words_, names_;
  std::vector<std::string> given_, surnames_, org_stems_, band_stems_, cities_;
};

}  // namespace steper
