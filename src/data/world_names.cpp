#include "data/world_names.h"

#include <cmath>

#include "core/error.h"

namespace steper {

namespace {

// ---------------------------------------------------------------- word pieces

const std::vector<std::string> kOnsets = {"b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "kr", "l", "m",
                                          "n", "p", "pr", "qu", "r", "s", "st", "t", "th", "tr", "v", "w", "z"};
const std::vector<std::string> kInner = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"};
const std::vector<std::string> kVowels = {"a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ou"};
const std::vector<std::string> kCodas = {"n", "r", "l", "s", "m", "th", "rn", "ld", "nd", "rk", "lm"};

const std::vector<std::string> kGivenEnds = {"o", "a", "en", "is", "an", "el", "ia", "on", "ik", "ar"};
const std::vector<std::string> kSurnameEnds = {"eth", "ley", "son", "ard", "wyn", "ick", "ow", "ane", "ett", "oft"};
const std::vector<std::string> kCityEnds = {"ith", "ford", "holm", "wick", "stad", "mere", "ton", "vale", "gard", "ora"};
const std::vector<std::string> kCountryEnds = {"ia", "aria", "land", "mark", "ovia", "enia", "istan", "orra"};
const std::vector<std::string> kCityPrefixes = {"New", "North", "South", "Upper", "Lower", "East", "West", "Old"};
const std::vector<std::string> kOrgKinds = {"Institute", "Company", "University", "Academy", "Foundation",
                                            "Works",     "Group",   "Society",    "Press",   "Studios"};
const std::vector<std::string> kBandNouns = {"Wolves", "Ravens", "Lanterns", "Echoes", "Hounds", "Tides",
                                             "Sparrows", "Embers", "Giants", "Owls", "Foxes", "Drifters",
                                             "Pilots", "Comets", "Thorns", "Kings", "Shadows", "Arrows"};
const std::vector<std::string> kAdjectives = {
    "Ashen", "Silent", "Broken", "Golden", "Hidden", "Last", "Crimson", "Frozen", "Hollow", "Distant",
    "Quiet", "Burning", "Lost", "Pale", "Iron", "Silver", "Wild", "Bitter", "Endless", "Forgotten",
    "Scarlet", "Gentle", "Restless", "Sunken", "Velvet", "Wandering", "Hungry", "Narrow", "Open", "Secret"};
const std::vector<std::string> kNouns = {
    "Vow", "Harbor", "River", "Garden", "Crown", "Letter", "Mirror", "Winter", "Road", "Tower",
    "Promise", "Bridge", "Storm", "Island", "Lantern", "Voyage", "Orchard", "Mountain", "Signal", "Door",
    "Forest", "Summer", "Anthem", "Canyon", "Compass", "Feather", "Meadow", "Shore", "Valley", "Window"};
const std::vector<std::string> kBookNouns = {"Letters", "Songs", "Tales", "Notes", "Maps", "Voices",
                                             "Chronicles", "Poems", "Dreams", "Stories"};

std::string capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

}  // namespace

// ---------------------------------------------------------------- words

std::string WorldNames::word(int syllables) {
  for (int tries = 0; tries < 1000; ++tries) {
    if (tries > 0 && tries % 50 == 0) ++syllables;  // short words used up: make longer ones
    std::string w = rng_.pick(kOnsets) + rng_.pick(kVowels);
    for (int s = 1; s < syllables; ++s) {
      if (rng_.chance(0.3)) w += rng_.pick(kCodas).substr(0, 1);
      w += rng_.pick(kInner) + rng_.pick(kVowels);
    }
    w += rng_.pick(kCodas);
    w = capitalize(w);
    if (words_.insert(w).second) return w;
  }
  throw Error("world: ran out of made-up words");
}

void WorldNames::plan_persons(size_t n_persons) {
  size_t pool = static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(n_persons) * 4.0))) + 8;
  given_.clear();
  surnames_.clear();
  for (size_t i = 0; i < pool; ++i) {
    std::string g = rng_.pick(kOnsets) + rng_.pick(kVowels) + (rng_.chance(0.5) ? rng_.pick(kCodas) : "") +
                    rng_.pick(kInner) + rng_.pick(kGivenEnds);
    g = capitalize(g);
    if (words_.insert(g).second) given_.push_back(g);
    std::string s = rng_.pick(kOnsets) + rng_.pick(kVowels) + rng_.pick(kInner) + rng_.pick(kSurnameEnds);
    s = capitalize(s);
    if (words_.insert(s).second) surnames_.push_back(s);
  }
}

// ---------------------------------------------------------------- typed names

std::string WorldNames::person() {
  if (given_.empty()) plan_persons(1000);
  for (int tries = 0; tries < 1000; ++tries) {
    std::string n = rng_.pick(given_) + " " + rng_.pick(surnames_);
    if (claim(n)) return n;
  }
  plan_persons(given_.size() * given_.size() * 2);  // pools exhausted: widen them
  return person();
}

std::string WorldNames::city() {
  for (int tries = 0; tries < 1000; ++tries) {
    std::string n;
    if (!cities_.empty() && rng_.chance(0.08) && tries < 100)
      n = rng_.pick(kCityPrefixes) + " " + rng_.pick(cities_);  // "New Brelith" next to "Brelith"
    else
      n = capitalize(rng_.pick(kOnsets) + rng_.pick(kVowels) + (rng_.chance(0.4) ? rng_.pick(kInner) + rng_.pick(kVowels) : "") +
                     rng_.pick(kCityEnds));
    if (words_.count(n) || !claim(n)) continue;
    words_.insert(n);
    if (n.find(' ') == std::string::npos) cities_.push_back(n);  // no "New North Brelith"
    return n;
  }
  throw Error("world: ran out of city names");
}

std::string WorldNames::country() {
  for (int tries = 0; tries < 1000; ++tries) {
    std::string n = capitalize(rng_.pick(kOnsets) + rng_.pick(kVowels) + rng_.pick(kInner) + rng_.pick(kCountryEnds));
    if (words_.count(n) || !claim(n)) continue;
    words_.insert(n);
    return n;
  }
  throw Error("world: ran out of country names");
}

std::string WorldNames::organization() {
  for (int tries = 0; tries < 1000; ++tries) {
    std::string stem;
    if (!org_stems_.empty() && rng_.chance(0.35)) {
      stem = rng_.pick(org_stems_);  // "Quarn Academy" next to "Quarn Institute"
    } else {
      stem = word(rng_.chance(0.6) ? 1 : 2);
      org_stems_.push_back(stem);
    }
    std::string n = stem + " " + rng_.pick(kOrgKinds);
    if (claim(n)) return n;
  }
  throw Error("world: ran out of organization names");
}

std::string WorldNames::band() {
  for (int tries = 0; tries < 1000; ++tries) {
    std::string stem;
    if (!band_stems_.empty() && rng_.chance(0.3)) {
      stem = rng_.pick(band_stems_);
    } else {
      stem = word(2);
      band_stems_.push_back(stem);
    }
    std::string n = "The " + stem + " " + rng_.pick(kBandNouns);
    if (claim(n)) return n;
  }
  throw Error("world: ran out of band names");
}

std::string WorldNames::film() {
  for (int tries = 0; tries < 1000; ++tries) {
    std::string n = tries < 20 && rng_.chance(0.7) ? "The " + rng_.pick(kAdjectives) + " " + rng_.pick(kNouns)
                                                   : "The " + rng_.pick(kNouns) + " of " + word(2);
    if (claim(n)) return n;
  }
  throw Error("world: ran out of film names");
}

std::string WorldNames::book() {
  for (int tries = 0; tries < 1000; ++tries) {
    std::string n;
    if (tries < 20 && rng_.chance(0.5)) {
      const std::string& adj = rng_.pick(kAdjectives);
      n = (std::string("AEIOU").find(adj[0]) == std::string::npos ? "A " : "An ") + adj + " " + rng_.pick(kNouns);
    } else {
      n = rng_.pick(kBookNouns) + " of " + word(2);
    }
    if (claim(n)) return n;
  }
  throw Error("world: ran out of book names");
}

}  // namespace steper
