#include "data/world.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/io.h"
#include "data/formats.h"
#include "data/world_names.h"
#include "data/world_relations.h"
#include "data/world_rng.h"

namespace steper {

namespace {

using K = EntityKind;

// ---------------------------------------------------------------- entities and facts

struct Fact {
  Rel rel;
  int obj = -1;          // entity index when the relation is not numeric
  long long value = 0;   // the number when it is
  int sent = -1;         // the sentence of the passage that states it
};

struct Entity {
  K kind;
  std::string name;
  std::vector<Fact> facts;
  std::vector<std::string> sentences;
  int split = 0;  // 0 train, 1 dev, 2 test: questions about this entity go to that split only
};

// Organizations take the article in running text ("works for the Quarn Institute").
std::string entity_ref(const Entity& e, bool initial) {
  if (e.kind == K::kOrganization) return (initial ? "The " : "the ") + e.name;
  return e.name;
}

std::string format_number(long long v, bool thousands) {
  std::string s = std::to_string(v);
  if (!thousands) return s;
  std::string out;
  int n = static_cast<int>(s.size());
  for (int i = 0; i < n; ++i) {
    out += s[i];
    if ((n - i - 1) % 3 == 0 && i != n - 1) out += ',';
  }
  return out;
}

bool is_population(Rel r) { return r == Rel::kCityPopulation || r == Rel::kCountryPopulation; }

// Replaces {X} markers with subst(X).
template <class F>
std::string fill(const std::string& tmpl, F subst) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{' && i + 2 < tmpl.size() && tmpl[i + 2] == '}') {
      out += subst(tmpl[i + 1]);
      i += 2;
    } else {
      out += tmpl[i];
    }
  }
  return out;
}

// ---------------------------------------------------------------- comparison questions

struct OrderedComparison {
  Rel rel;
  K kind;
  std::vector<const char*> low;   // the answer is the entity with the smaller number
  std::vector<const char*> high;  // the answer is the entity with the larger number
};

const std::vector<OrderedComparison>& ordered_comparisons() {
  static const std::vector<OrderedComparison> list = {
      {Rel::kBirthYear, K::kPerson,
       {"Who was born first, {A} or {B}?", "Who was born earlier, {A} or {B}?"},
       {"Who was born later, {A} or {B}?", "Who is younger, {A} or {B}?"}},
      {Rel::kFoundingYear, K::kOrganization,
       {"Which was founded earlier, {A} or {B}?", "Which organization is older, {A} or {B}?"},
       {"Which was founded more recently, {A} or {B}?"}},
      {Rel::kReleaseYear, K::kFilm,
       {"Which film was released first, {A} or {B}?", "Which film came out earlier, {A} or {B}?"},
       {"Which film was released more recently, {A} or {B}?"}},
      {Rel::kPublicationYear, K::kBook,
       {"Which book was published first, {A} or {B}?"},
       {"Which book was published more recently, {A} or {B}?"}},
      {Rel::kFormationYear, K::kBand,
       {"Which band was formed first, {A} or {B}?"},
       {"Which band was formed more recently, {A} or {B}?"}},
      {Rel::kCityPopulation, K::kCity,
       {"Which city has a smaller population, {A} or {B}?"},
       {"Which city has a larger population, {A} or {B}?", "Which city has more inhabitants, {A} or {B}?"}},
  };
  return list;
}

struct SameComparison {
  Rel rel;
  K kind;
  std::vector<const char*> questions;  // answered yes or no
};

const std::vector<SameComparison>& same_comparisons() {
  static const std::vector<SameComparison> list = {
      {Rel::kBornIn, K::kPerson, {"Were {A} and {B} born in the same city?", "Are {A} and {B} from the same city?"}},
      {Rel::kLocatedIn, K::kCity, {"Are {A} and {B} in the same country?", "Are {A} and {B} located in the same country?"}},
      {Rel::kWorksFor, K::kPerson,
       {"Do {A} and {B} work for the same organization?", "Are {A} and {B} employed by the same organization?"}},
      {Rel::kDirector, K::kFilm, {"Were {A} and {B} directed by the same person?", "Do {A} and {B} have the same director?"}},
  };
  return list;
}

// ---------------------------------------------------------------- the builder

class WorldBuilder {
 public:
  explicit WorldBuilder(const WorldOptions& opts) : opts_(opts), rng_(opts.seed * 0x2545F4914F6CDD1DULL + 17), names_(rng_) {}
  World build();

 private:
  int add_entity(K kind, std::string name);
  void make_entities(int n);
  void make_facts();
  void make_passages();
  void assign_splits();
  std::vector<Question> make_questions(int split, int n);
  bool make_bridge(int split, int hops, Question& q, std::string& key);
  bool make_comparison(int split, Question& q, std::string& key);
  const std::vector<int>& pairable(int split, const SameComparison& c);
  void add_context(Question& q, const std::vector<int>& supporting);
  const Fact* find_fact(int e, Rel r) const;
  int skewed(const std::vector<int>& v) {  // early entries are picked more often: shared attributes
    double u = rng_.uniform();
    return v[static_cast<size_t>(u * u * static_cast<double>(v.size()))];
  }

  WorldOptions opts_;
  WorldRng rng_;
  WorldNames names_;
  std::vector<Entity> ents_;
  std::vector<int> by_kind_[kEntityKindCount];
  std::vector<int> pool_[3];                              // entities of each split
  std::vector<int> pool_kind_[3][kEntityKindCount];
  std::unordered_map<std::string, std::vector<int>> by_word_;  // name word -> entities (near misses)
  std::unordered_set<std::string> keys_;                   // one question per meaning
  // split -> relation -> object -> entities of the split with that object ("same city?" questions)
  std::unordered_map<int, std::vector<int>> same_buckets_[3][kRelCount];
  std::vector<int> pairable_[3][kRelCount];  // entities of the split that share the object with another
};

const Fact* WorldBuilder::find_fact(int e, Rel r) const {
  for (const auto& f : ents_[e].facts)
    if (f.rel == r) return &f;
  return nullptr;
}

int WorldBuilder::add_entity(K kind, std::string name) {
  Entity e;
  e.kind = kind;
  e.name = std::move(name);
  ents_.push_back(std::move(e));
  int id = static_cast<int>(ents_.size()) - 1;
  by_kind_[static_cast<int>(kind)].push_back(id);
  return id;
}

void WorldBuilder::make_entities(int n) {
  // Shares of the entity kinds; persons take what is left.
  int countries = std::max(2, n * 3 / 100);
  int cities = std::max(4, n * 12 / 100);
  int orgs = std::max(2, n * 13 / 100);
  int bands = std::max(2, n * 6 / 100);
  int films = std::max(2, n * 13 / 100);
  int books = std::max(2, n * 13 / 100);
  int persons = n - countries - cities - orgs - bands - films - books;
  if (persons < 4) throw Error("world: --entities " + std::to_string(n) + " is too small (at least 50)");
  ents_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < countries; ++i) add_entity(K::kCountry, names_.country());
  for (int i = 0; i < cities; ++i) add_entity(K::kCity, names_.city());
  names_.plan_persons(static_cast<size_t>(persons));
  for (int i = 0; i < persons; ++i) add_entity(K::kPerson, names_.person());
  for (int i = 0; i < orgs; ++i) add_entity(K::kOrganization, names_.organization());
  for (int i = 0; i < bands; ++i) add_entity(K::kBand, names_.band());
  for (int i = 0; i < films; ++i) add_entity(K::kFilm, names_.film());
  for (int i = 0; i < books; ++i) add_entity(K::kBook, names_.book());
}

void WorldBuilder::make_facts() {
  const auto& countries = by_kind_[static_cast<int>(K::kCountry)];
  const auto& cities = by_kind_[static_cast<int>(K::kCity)];
  const auto& persons = by_kind_[static_cast<int>(K::kPerson)];
  const auto& orgs = by_kind_[static_cast<int>(K::kOrganization)];
  const auto& bands = by_kind_[static_cast<int>(K::kBand)];
  auto entity_fact = [](Rel r, int obj) { Fact f{r}; f.obj = obj; return f; };
  auto number_fact = [](Rel r, long long v) { Fact f{r}; f.value = v; return f; };

  // Cities: every country gets at least one; its capital is one of its own cities.
  std::vector<std::vector<int>> cities_of(countries.size());
  for (size_t i = 0; i < cities.size(); ++i) {
    size_t c = i;
    if (i >= countries.size()) {
      double u = rng_.uniform();
      c = static_cast<size_t>(u * u * static_cast<double>(countries.size()));
    }
    cities_of[c].push_back(cities[i]);
    Entity& e = ents_[cities[i]];
    e.facts.push_back(entity_fact(Rel::kLocatedIn, countries[c]));
    e.facts.push_back(number_fact(Rel::kCityFounded, rng_.range(800, 1900)));
    e.facts.push_back(number_fact(Rel::kCityPopulation, rng_.range(50, 30000) * 100LL));
  }
  for (size_t c = 0; c < countries.size(); ++c) {
    Entity& e = ents_[countries[c]];
    e.facts.push_back(entity_fact(Rel::kCapital, rng_.pick(cities_of[c])));
    e.facts.push_back(number_fact(Rel::kIndependence, rng_.range(1700, 1990)));
    e.facts.push_back(number_fact(Rel::kCountryPopulation, rng_.range(300, 90000) * 1000LL));
  }
  for (int p : persons) {
    Entity& e = ents_[p];
    e.facts.push_back(entity_fact(Rel::kBornIn, skewed(cities)));
    e.facts.push_back(number_fact(Rel::kBirthYear, rng_.range(1900, 1999)));
    e.facts.push_back(entity_fact(Rel::kWorksFor, rng_.pick(orgs)));
  }
  std::vector<int> order = persons;
  rng_.shuffle(order);
  size_t married = order.size() * 2 / 5 / 2 * 2;
  for (size_t i = 0; i + 1 < married; i += 2) {
    ents_[order[i]].facts.push_back(entity_fact(Rel::kSpouse, order[i + 1]));
    ents_[order[i + 1]].facts.push_back(entity_fact(Rel::kSpouse, order[i]));
  }
  for (int p : persons)
    if (rng_.chance(0.25)) ents_[p].facts.push_back(entity_fact(Rel::kMemberOf, rng_.pick(bands)));
  for (int o : orgs) {
    Entity& e = ents_[o];
    e.facts.push_back(entity_fact(Rel::kHeadquarters, skewed(cities)));
    e.facts.push_back(entity_fact(Rel::kFounder, rng_.pick(persons)));
    e.facts.push_back(number_fact(Rel::kFoundingYear, rng_.range(1800, 1999)));
  }
  for (int b : bands) {
    Entity& e = ents_[b];
    e.facts.push_back(entity_fact(Rel::kFormedIn, skewed(cities)));
    e.facts.push_back(number_fact(Rel::kFormationYear, rng_.range(1955, 2020)));
    e.facts.push_back(entity_fact(Rel::kSignedTo, rng_.pick(orgs)));
  }
  // Directors and authors make about three films or books each.
  std::vector<int> directors, authors;
  for (size_t i = 0; i < std::max<size_t>(1, by_kind_[static_cast<int>(K::kFilm)].size() / 3); ++i)
    directors.push_back(rng_.pick(persons));
  for (size_t i = 0; i < std::max<size_t>(1, by_kind_[static_cast<int>(K::kBook)].size() / 3); ++i)
    authors.push_back(rng_.pick(persons));
  for (int f : by_kind_[static_cast<int>(K::kFilm)]) {
    Entity& e = ents_[f];
    e.facts.push_back(entity_fact(Rel::kDirector, rng_.pick(directors)));
    e.facts.push_back(number_fact(Rel::kReleaseYear, rng_.range(1930, 2022)));
    e.facts.push_back(entity_fact(Rel::kFilmedIn, skewed(cities)));
  }
  for (int b : by_kind_[static_cast<int>(K::kBook)]) {
    Entity& e = ents_[b];
    e.facts.push_back(entity_fact(Rel::kAuthor, rng_.pick(authors)));
    e.facts.push_back(number_fact(Rel::kPublicationYear, rng_.range(1850, 2022)));
    e.facts.push_back(entity_fact(Rel::kPublisher, rng_.pick(orgs)));
  }
}

// One sentence a fact, in shuffled order, each in a wording drawn for it; full names throughout.
void WorldBuilder::make_passages() {
  for (auto& e : ents_) {
    rng_.shuffle(e.facts);
    for (auto& f : e.facts) {
      const RelSpec& spec = rel_spec(f.rel);
      std::string tmpl = rng_.pick(spec.wordings);
      std::string s = fill(tmpl, [&](char c) -> std::string {
        switch (c) {
          case 'S': return entity_ref(e, true);
          case 's': return entity_ref(e, false);
          case 'O': return entity_ref(ents_[f.obj], true);
          case 'o': return entity_ref(ents_[f.obj], false);
          case 'V': return format_number(f.value, is_population(f.rel));
        }
        return std::string();
      });
      f.sent = static_cast<int>(e.sentences.size());
      e.sentences.push_back(s);
    }
  }
}

void WorldBuilder::assign_splits() {
  double total = static_cast<double>(opts_.n_train) + opts_.n_dev + opts_.n_test;
  double f_test = total > 0 ? opts_.n_test / total : 0.0;
  double f_dev = total > 0 ? opts_.n_dev / total : 0.0;
  for (size_t i = 0; i < ents_.size(); ++i) {
    double u = rng_.uniform();
    int split = u < f_test ? 2 : u < f_test + f_dev ? 1 : 0;
    ents_[i].split = split;
    pool_[split].push_back(static_cast<int>(i));
    pool_kind_[split][static_cast<int>(ents_[i].kind)].push_back(static_cast<int>(i));
  }
}

// ---------------------------------------------------------------- questions

// Distractor paragraphs: entities sharing a word of a supporting entity's name when there are
// any ("Quarn Academy" for "Quarn Institute"), else entities of the same kind.
void WorldBuilder::add_context(Question& q, const std::vector<int>& supporting) {
  if (by_word_.empty()) {
    for (size_t i = 0; i < ents_.size(); ++i) {
      const std::string& n = ents_[i].name;
      size_t start = 0;
      while (start < n.size()) {
        size_t sp = n.find(' ', start);
        if (sp == std::string::npos) sp = n.size();
        std::string w = n.substr(start, sp - start);
        if (w != "The" && w != "A" && w != "An" && w != "of") by_word_[w].push_back(static_cast<int>(i));
        start = sp + 1;
      }
    }
  }
  std::vector<int> chosen = supporting;
  const int kDistractors = 3;
  for (int d = 0; d < kDistractors; ++d) {
    for (int tries = 0; tries < 20; ++tries) {
      int base = rng_.pick(supporting);
      int cand;
      if (tries < 10) {
        const std::string& n = ents_[base].name;
        std::vector<std::string> words;
        size_t start = 0;
        while (start < n.size()) {
          size_t sp = n.find(' ', start);
          if (sp == std::string::npos) sp = n.size();
          std::string w = n.substr(start, sp - start);
          if (by_word_.count(w)) words.push_back(w);
          start = sp + 1;
        }
        if (words.empty()) continue;
        cand = rng_.pick(by_word_[rng_.pick(words)]);
      } else {
        cand = rng_.pick(by_kind_[static_cast<int>(ents_[base].kind)]);
      }
      if (std::find(chosen.begin(), chosen.end(), cand) != chosen.end()) continue;
      chosen.push_back(cand);
      break;
    }
  }
  rng_.shuffle(chosen);
  for (int e : chosen) q.context.push_back({ents_[e].name, ents_[e].sentences});
}

// A chain of `hops` functional relations from an entity of the split; each hop's fact is one
// sentence of a distinct passage, so the answer is unique and follows from those sentences.
bool WorldBuilder::make_bridge(int split, int hops, Question& q, std::string& key) {
  if (pool_[split].empty()) return false;
  int start = rng_.pick(pool_[split]);
  std::vector<int> visited = {start};
  std::vector<std::pair<int, const Fact*>> path;
  int cur = start;
  for (int step = 0; step < hops; ++step) {
    bool last = step == hops - 1;
    std::vector<const Fact*> options, numbers;
    for (const auto& f : ents_[cur].facts) {
      const RelSpec& spec = rel_spec(f.rel);
      if (spec.numeric) {
        if (last && !spec.questions.empty()) numbers.push_back(&f);
      } else if (std::find(visited.begin(), visited.end(), f.obj) == visited.end() &&
                 (last ? !spec.questions.empty() : spec.phrase != nullptr)) {
        options.push_back(&f);
      }
    }
    // A year ends about a third of the chains that could end in an entity.
    if (!numbers.empty() && (options.empty() || rng_.chance(0.3))) options = numbers;
    if (options.empty()) return false;
    const Fact* f = rng_.pick(options);
    path.emplace_back(cur, f);
    if (!rel_spec(f->rel).numeric) {
      visited.push_back(f->obj);
      cur = f->obj;
    }
  }
  key = "b" + std::to_string(start);
  std::string phrase = entity_ref(ents_[start], false);
  for (size_t i = 0; i < path.size(); ++i) {
    const RelSpec& spec = rel_spec(path[i].second->rel);
    key += ":" + std::string(spec.name);
    const char* tmpl = i + 1 < path.size() ? spec.phrase : rng_.pick(spec.questions);
    phrase = fill(tmpl, [&](char c) { return c == 'P' ? phrase : std::string(); });
  }
  const Fact* last = path.back().second;
  q.question = phrase;
  q.answers = {rel_spec(last->rel).numeric ? format_number(last->value, false) : ents_[last->obj].name};
  q.type = "bridge";
  q.hops = hops;
  std::vector<int> supporting;
  for (const auto& [e, f] : path) {
    q.supporting_facts.push_back({ents_[e].name, f->sent});
    supporting.push_back(e);
  }
  add_context(q, supporting);
  return true;
}

const std::vector<int>& WorldBuilder::pairable(int split, const SameComparison& c) {
  auto& buckets = same_buckets_[split][static_cast<int>(c.rel)];
  auto& list = pairable_[split][static_cast<int>(c.rel)];
  if (buckets.empty()) {
    for (int e : pool_kind_[split][static_cast<int>(c.kind)]) buckets[find_fact(e, c.rel)->obj].push_back(e);
    for (int e : pool_kind_[split][static_cast<int>(c.kind)])
      if (buckets[find_fact(e, c.rel)->obj].size() >= 2) list.push_back(e);
  }
  return list;
}

bool WorldBuilder::make_comparison(int split, Question& q, std::string& key) {
  int a = -1, b = -1;
  Rel rel;
  std::string tmpl, answer;
  if (rng_.chance(0.6)) {
    const OrderedComparison& c = rng_.pick(ordered_comparisons());
    const auto& pool = pool_kind_[split][static_cast<int>(c.kind)];
    if (pool.size() < 2) return false;
    a = rng_.pick(pool);
    b = rng_.pick(pool);
    rel = c.rel;
    if (a == b || find_fact(a, rel)->value == find_fact(b, rel)->value) return false;
    bool high = rng_.chance(0.5);
    tmpl = high ? rng_.pick(c.high) : rng_.pick(c.low);
    bool a_higher = find_fact(a, rel)->value > find_fact(b, rel)->value;
    answer = ents_[a_higher == high ? a : b].name;
  } else {
    // Half yes, half no: a "yes" pair comes from entities of the split that share the object.
    bool want_yes = rng_.chance(0.5);
    const SameComparison* chosen = &rng_.pick(same_comparisons());
    if (want_yes) {
      chosen = nullptr;
      std::vector<const SameComparison*> order;
      for (const auto& c : same_comparisons()) order.push_back(&c);
      rng_.shuffle(order);
      for (const SameComparison* c : order)
        if (!pairable(split, *c).empty()) {
          chosen = c;
          break;
        }
      if (!chosen) return false;
    }
    const SameComparison& c = *chosen;
    const auto& pool = pool_kind_[split][static_cast<int>(c.kind)];
    if (pool.size() < 2) return false;
    rel = c.rel;
    if (want_yes) {
      a = rng_.pick(pairable(split, c));
      const auto& same = same_buckets_[split][static_cast<int>(rel)][find_fact(a, rel)->obj];
      while (b < 0 || b == a) b = rng_.pick(same);
    } else {
      a = rng_.pick(pool);
      int target = find_fact(a, rel)->obj;
      for (int tries = 0; tries < 50 && b < 0; ++tries) {
        int cand = rng_.pick(pool);
        if (cand != a && find_fact(cand, rel)->obj != target) b = cand;
      }
      if (b < 0) return false;
    }
    tmpl = rng_.pick(c.questions);
    answer = want_yes ? "yes" : "no";
  }
  key = "c" + std::string(rel_spec(rel).name) + ":" + std::to_string(std::min(a, b)) + ":" + std::to_string(std::max(a, b));
  q.question = fill(tmpl, [&](char c) {
    return c == 'A' ? entity_ref(ents_[a], false) : c == 'B' ? entity_ref(ents_[b], false) : std::string();
  });
  q.answers = {answer};
  q.type = "comparison";
  q.hops = 2;
  q.supporting_facts = {{ents_[a].name, find_fact(a, rel)->sent}, {ents_[b].name, find_fact(b, rel)->sent}};
  add_context(q, {a, b});
  return true;
}

// About 45% 2-hop, 25% 3-hop and 15% 4-hop bridge questions and 15% comparisons, shuffled.
std::vector<Question> WorldBuilder::make_questions(int split, int n) {
  static const char* kSplitNames[] = {"train", "dev", "test"};
  int n3 = n * 25 / 100, n4 = n * 15 / 100, nc = n * 15 / 100;
  int n2 = n - n3 - n4 - nc;
  std::vector<int> plan;  // hop count, 0 for a comparison
  plan.insert(plan.end(), n2, 2);
  plan.insert(plan.end(), n3, 3);
  plan.insert(plan.end(), n4, 4);
  plan.insert(plan.end(), nc, 0);
  std::vector<Question> out;
  for (int hops : plan) {
    bool made = false;
    for (int tries = 0; tries < 5000 && !made; ++tries) {
      Question q;
      std::string key;
      bool ok = hops == 0 ? make_comparison(split, q, key) : make_bridge(split, hops, q, key);
      if (!ok || !keys_.insert(key).second) continue;
      out.push_back(std::move(q));
      made = true;
    }
    if (!made)
      throw Error(std::string("world: cannot make ") + std::to_string(n) + " distinct " + kSplitNames[split] +
                  " questions from " + std::to_string(ents_.size()) + " entities; raise --entities");
  }
  rng_.shuffle(out);
  for (size_t i = 0; i < out.size(); ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "%s-%05zu", kSplitNames[split], i);
    out[i].id = id;
  }
  return out;
}

World WorldBuilder::build() {
  int total = opts_.n_train + opts_.n_dev + opts_.n_test;
  int n = opts_.n_entities > 0 ? opts_.n_entities : std::max(150, total * 13 / 25);
  make_entities(n);
  make_facts();
  make_passages();
  assign_splits();
  World w;
  w.corpus.reserve(ents_.size());
  for (size_t i = 0; i < ents_.size(); ++i) {
    const Entity& e = ents_[i];
    std::string text;
    for (const auto& s : e.sentences) text += (text.empty() ? "" : " ") + s;
    w.corpus.push_back({std::to_string(i), e.name, text});
  }
  w.train = make_questions(0, opts_.n_train);
  w.dev = make_questions(1, opts_.n_dev);
  w.test = make_questions(2, opts_.n_test);
  return w;
}

}  // namespace

// ---------------------------------------------------------------- public

World world_generate(const WorldOptions& opts) {
  if (opts.n_train < 0 || opts.n_dev < 0 || opts.n_test < 0)
    throw Error("world: question counts (--train, --dev, --test) must not be negative");
  if (opts.n_entities != 0 && opts.n_entities < 50)
    throw Error("world: --entities must be at least 50 (or 0 to choose from the question counts)");
  WorldBuilder builder(opts);
  return builder.build();
}

void world_write(const World& world, const std::string& dir) {
  try {
    make_dirs(dir);
  } catch (const std::exception& e) {
    throw Error(dir + ": cannot create the output folder (" + e.what() + ")");
  }
  write_corpus(dir + "/corpus.jsonl", world.corpus);
  write_hotpot_json(dir + "/train.json", world.train);
  write_hotpot_json(dir + "/dev.json", world.dev);
  write_hotpot_json(dir + "/test.json", world.test);
}

std::vector<WorldRelation> world_relations() {
  std::vector<WorldRelation> out;
  for (int i = 0; i < kRelCount; ++i) {
    const RelSpec& s = rel_spec(static_cast<Rel>(i));
    WorldRelation r;
    r.name = s.name;
    r.subject = entity_kind_name(s.subject);
    r.object = s.numeric ? "number" : entity_kind_name(s.object);
    for (const char* w : s.wordings) r.wordings.push_back(w);
    out.push_back(r);
  }
  return out;
}

}  // namespace steper
