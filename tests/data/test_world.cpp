// The generated world: determinism, held-out subjects, supporting facts that really support the
// answer, the question mix, files that the readers read back, and a large fast corpus.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/error_of.h"
#include "core/error.h"
#include "core/io.h"
#include "data/formats.h"
#include "data/world.h"

namespace steper {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The default world, generated once for the tests that only read it.
const World& default_world() {
  static World w = world_generate(WorldOptions());
  return w;
}

std::unordered_map<std::string, const Passage*> by_title(const World& w) {
  std::unordered_map<std::string, const Passage*> m;
  for (const auto& p : w.corpus) m[p.title] = &p;
  return m;
}

// Sentences of a passage, split at ". " the way a reader would (names contain no periods).
std::vector<std::string> split_sentences(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(". ", start);
    if (end == std::string::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, end + 1 - start));
    start = end + 2;
  }
  return out;
}

// The sentence a supporting fact names, read from the corpus passage (not from the question's context).
std::string fact_sentence(const World& w, const SupportingFact& f) {
  static std::unordered_map<const World*, std::unordered_map<std::string, const Passage*>> cache;
  auto found = cache.find(&w);
  if (found == cache.end()) found = cache.emplace(&w, by_title(w)).first;
  const auto& titles = found->second;
  auto it = titles.find(f.title);
  if (it == titles.end()) return "";
  auto sents = split_sentences(it->second->text);
  if (f.sent_id < 0 || f.sent_id >= static_cast<int>(sents.size())) return "";
  return sents[f.sent_id];
}

std::vector<const Question*> all_questions(const World& w) {
  std::vector<const Question*> out;
  for (const auto* split : {&w.train, &w.dev, &w.test})
    for (const auto& q : *split) out.push_back(&q);
  return out;
}

// The entities a question asks about: the chain's first entity, or both compared entities.
std::set<std::string> subjects(const Question& q) {
  if (q.type == "comparison") return {q.supporting_facts[0].title, q.supporting_facts[1].title};
  return {q.supporting_facts[0].title};
}

// ---------------------------------------------------------------- determinism

std::string world_bytes(uint64_t seed) {
  WorldOptions o;
  o.seed = seed;
  o.n_train = 200;
  o.n_dev = 20;
  o.n_test = 30;
  std::string dir = "/tmp/steper_test_world_" + std::to_string(getpid()) + "_" + std::to_string(seed);
  world_write(world_generate(o), dir);
  std::string all;
  for (const char* f : {"corpus.jsonl", "train.json", "dev.json", "test.json"}) all += read_file(dir + "/" + f);
  std::filesystem::remove_all(dir);
  return all;
}

TEST(World, SameSeedSameBytesOtherSeedDiffers) {
  std::string a = world_bytes(7), b = world_bytes(7), c = world_bytes(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GT(a.size(), 10000u);
}

// ---------------------------------------------------------------- sizes and mix

TEST(World, DefaultSizesAndQuestionMix) {
  const World& w = default_world();
  EXPECT_EQ(w.train.size(), 2000u);
  EXPECT_EQ(w.dev.size(), 200u);
  EXPECT_EQ(w.test.size(), 300u);
  EXPECT_GE(w.corpus.size(), 1200u);
  EXPECT_LE(w.corpus.size(), 1400u);
  for (const auto* split : {&w.train, &w.test}) {
    std::map<std::string, int> mix;
    for (const auto& q : *split) mix[q.type == "comparison" ? "c" : std::to_string(q.hops)]++;
    double n = static_cast<double>(split->size());
    EXPECT_NEAR(mix["2"] / n, 0.45, 0.02);
    EXPECT_NEAR(mix["3"] / n, 0.25, 0.02);
    EXPECT_NEAR(mix["4"] / n, 0.15, 0.02);
    EXPECT_NEAR(mix["c"] / n, 0.15, 0.02);
  }
}

TEST(World, IdsAndQuestionsAreUnique) {
  std::set<std::string> ids, texts;
  for (const Question* q : all_questions(default_world())) {
    EXPECT_TRUE(ids.insert(q->id).second) << q->id;
    EXPECT_TRUE(texts.insert(q->question).second) << q->question;
  }
  std::set<std::string> titles, pids;
  for (const auto& p : default_world().corpus) {
    EXPECT_TRUE(titles.insert(p.title).second) << p.title;
    EXPECT_TRUE(pids.insert(p.id).second) << p.id;
  }
}

// ---------------------------------------------------------------- held-out subjects

TEST(World, DevAndTestAskAboutEntitiesNoTrainingQuestionAsksAbout) {
  const World& w = default_world();
  std::set<std::string> train_subjects, dev_subjects;
  for (const auto& q : w.train)
    for (const auto& s : subjects(q)) train_subjects.insert(s);
  for (const auto& q : w.dev)
    for (const auto& s : subjects(q)) {
      EXPECT_EQ(train_subjects.count(s), 0u) << q.id << " asks about " << s;
      dev_subjects.insert(s);
    }
  for (const auto& q : w.test)
    for (const auto& s : subjects(q)) {
      EXPECT_EQ(train_subjects.count(s), 0u) << q.id << " asks about " << s;
      EXPECT_EQ(dev_subjects.count(s), 0u) << q.id << " asks about " << s;
    }
  EXPECT_GT(train_subjects.size(), 500u);
}

// ---------------------------------------------------------------- supporting facts

TEST(World, BridgeFactsChainFromQuestionToAnswer) {
  const World& w = default_world();
  int checked = 0;
  for (const Question* q : all_questions(w)) {
    if (q->type != "bridge") continue;
    const auto& sf = q->supporting_facts;
    ASSERT_EQ(static_cast<int>(sf.size()), q->hops) << q->id;
    ASSERT_GE(q->hops, 2);
    ASSERT_LE(q->hops, 4);
    std::set<std::string> distinct;
    for (const auto& f : sf) distinct.insert(f.title);
    EXPECT_EQ(static_cast<int>(distinct.size()), q->hops) << q->id;
    // The question names the first entity; each fact's sentence names its own entity and the
    // next one; the last sentence states the answer.
    EXPECT_TRUE(contains(q->question, sf[0].title)) << q->id;
    for (size_t i = 0; i < sf.size(); ++i) {
      std::string s = fact_sentence(w, sf[i]);
      ASSERT_FALSE(s.empty()) << q->id;
      EXPECT_TRUE(contains(s, sf[i].title)) << q->id << ": " << s;
      if (i + 1 < sf.size()) {
        EXPECT_TRUE(contains(s, sf[i + 1].title)) << q->id << ": " << s;
        EXPECT_FALSE(contains(q->question, sf[i + 1].title)) << q->id << " gives away a bridge entity";
      } else {
        EXPECT_TRUE(contains(s, q->answers[0])) << q->id << ": " << s;
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 2000);
}

TEST(World, ComparisonFactsGiveTheAnswer) {
  const World& w = default_world();
  std::regex year(R"((1[0-9]{3}|20[0-9]{2}))");
  int yes = 0, no = 0, ordered = 0;
  for (const Question* q : all_questions(w)) {
    if (q->type != "comparison") continue;
    ASSERT_EQ(q->supporting_facts.size(), 2u);
    EXPECT_EQ(q->hops, 2);
    std::string a = fact_sentence(w, q->supporting_facts[0]), b = fact_sentence(w, q->supporting_facts[1]);
    const std::string& ta = q->supporting_facts[0].title;
    const std::string& tb = q->supporting_facts[1].title;
    EXPECT_TRUE(contains(q->question, ta) && contains(q->question, tb)) << q->id;
    EXPECT_TRUE(contains(a, ta) && contains(b, tb)) << q->id;
    const std::string& ans = q->answers[0];
    if (ans == "yes" || ans == "no") {
      // "yes" exactly when both sentences name the same other entity (the longest title found).
      auto object_of = [&](std::string sentence, const std::string& subject) {
        sentence.replace(sentence.find(subject), subject.size(), "#");
        std::string best;
        for (const auto& p : w.corpus)
          if (p.title.size() > best.size() && contains(sentence, p.title)) best = p.title;
        return best;
      };
      std::string oa = object_of(a, ta), ob = object_of(b, tb);
      ASSERT_FALSE(oa.empty()) << a;
      ASSERT_FALSE(ob.empty()) << b;
      EXPECT_EQ(ans == "yes", oa == ob) << q->id << ": " << q->question << " | " << a << " | " << b;
      (ans == "yes" ? yes : no)++;
      continue;
    }
    EXPECT_TRUE(ans == ta || ans == tb) << q->id;
    ++ordered;
    // Years: the answer follows from the two numbers and the question's direction.
    std::smatch ma, mb;
    if (contains(q->question, "population") || contains(q->question, "inhabitants")) continue;
    ASSERT_TRUE(std::regex_search(a, ma, year)) << a;
    ASSERT_TRUE(std::regex_search(b, mb, year)) << b;
    int ya = std::stoi(ma.str()), yb = std::stoi(mb.str());
    ASSERT_NE(ya, yb) << q->id;
    bool later = contains(q->question, "later") || contains(q->question, "recently") || contains(q->question, "younger");
    std::string expect = (ya > yb) == later ? ta : tb;
    EXPECT_EQ(ans, expect) << q->id << ": " << q->question << " | " << a << " | " << b;
  }
  EXPECT_GT(ordered, 100);
  EXPECT_GT(yes, 30);
  EXPECT_GT(no, 30);
}

TEST(World, ContextHoldsSupportingParagraphsAndDistractors) {
  const World& w = default_world();
  auto titles = by_title(w);
  for (const Question* q : all_questions(w)) {
    std::set<std::string> ctx;
    for (const auto& p : q->context) {
      ctx.insert(p.title);
      auto it = titles.find(p.title);
      ASSERT_NE(it, titles.end());
      EXPECT_EQ(split_sentences(it->second->text), p.sentences);
    }
    for (const auto& f : q->supporting_facts) EXPECT_EQ(ctx.count(f.title), 1u) << q->id;
    EXPECT_GT(q->context.size(), std::set<std::string>(ctx).size() - 1);
    std::set<std::string> support;
    for (const auto& f : q->supporting_facts) support.insert(f.title);
    EXPECT_GE(q->context.size(), support.size() + 2) << q->id;  // distractors too
  }
}

// ---------------------------------------------------------------- passages and wording

TEST(World, PassagesAreShortAndStateFullNames) {
  for (const auto& p : default_world().corpus) {
    auto sents = split_sentences(p.text);
    EXPECT_GE(sents.size(), 3u) << p.title;
    EXPECT_LE(sents.size(), 6u) << p.title;
    for (const auto& s : sents) {
      EXPECT_TRUE(contains(s, p.title)) << p.title << ": " << s;
      EXPECT_FALSE(contains(s, " he ") || contains(s, " she ") || contains(s, " it ") || contains(s, " its "))
          << s;
    }
  }
}

TEST(World, RelationsHaveSeveralWordingsAndAllAreUsed) {
  auto rels = world_relations();
  int entity_relations = 0;
  for (const auto& r : rels) {
    EXPECT_GE(r.wordings.size(), 3u) << r.name;
    if (r.object != "number") ++entity_relations;
  }
  EXPECT_GE(entity_relations, 8);
  // Every wording shows up in the default corpus: its fixed text around the markers appears.
  std::string corpus;
  for (const auto& p : default_world().corpus) corpus += p.text + " ";
  for (const auto& r : rels)
    for (const auto& wording : r.wordings) {
      std::string longest, piece;
      for (size_t i = 0; i <= wording.size(); ++i) {
        if (i == wording.size() || wording[i] == '{') {
          if (piece.size() > longest.size()) longest = piece;
          piece.clear();
          if (i < wording.size()) i += 2;
        } else {
          piece += wording[i];
        }
      }
      EXPECT_TRUE(contains(corpus, longest)) << r.name << ": " << wording;
    }
}

TEST(World, NearMissNamesAndSharedAttributes) {
  const World& w = default_world();
  std::map<std::string, int> first_word;  // "Quarn" of "Quarn Institute" and "Quarn Academy"
  for (const auto& p : w.corpus) first_word[p.title.substr(0, p.title.find(' '))]++;
  int shared = 0;
  for (const auto& [word, n] : first_word) shared += n > 1 && word != "The" && word != "A" && word != "An";
  EXPECT_GT(shared, 50);
  std::map<std::string, int> births;
  std::regex born(R"(was born in ([A-Z][a-z]+)\.)");
  for (const auto& p : w.corpus) {
    std::smatch m;
    if (std::regex_search(p.text, m, born)) births[m[1]]++;
  }
  int max_births = 0;
  for (const auto& [city, n] : births) max_births = std::max(max_births, n);
  EXPECT_GE(max_births, 5);
}

// ---------------------------------------------------------------- files

TEST(World, WrittenFilesReadBack) {
  WorldOptions o;
  o.seed = 3;
  o.n_train = 100;
  o.n_dev = 10;
  o.n_test = 20;
  World w = world_generate(o);
  std::string dir = "/tmp/steper_test_world_files_" + std::to_string(getpid());
  world_write(w, dir);
  auto corpus = read_corpus(dir + "/corpus.jsonl");
  ASSERT_EQ(corpus.size(), w.corpus.size());
  EXPECT_EQ(corpus[5].text, w.corpus[5].text);
  auto train = read_questions(dir + "/train.json");
  auto test = read_questions(dir + "/test.json");
  ASSERT_EQ(train.size(), 100u);
  ASSERT_EQ(test.size(), 20u);
  ASSERT_EQ(read_questions(dir + "/dev.json").size(), 10u);
  for (size_t i = 0; i < train.size(); ++i) {
    EXPECT_EQ(train[i].id, w.train[i].id);
    EXPECT_EQ(train[i].question, w.train[i].question);
    EXPECT_EQ(train[i].answers, w.train[i].answers);
    EXPECT_EQ(train[i].type, w.train[i].type);
    EXPECT_EQ(train[i].hops, w.train[i].hops);
    ASSERT_EQ(train[i].supporting_facts.size(), w.train[i].supporting_facts.size());
    for (size_t j = 0; j < train[i].supporting_facts.size(); ++j) {
      EXPECT_EQ(train[i].supporting_facts[j].title, w.train[i].supporting_facts[j].title);
      EXPECT_EQ(train[i].supporting_facts[j].sent_id, w.train[i].supporting_facts[j].sent_id);
    }
    ASSERT_EQ(train[i].context.size(), w.train[i].context.size());
  }
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- scale and bad options

TEST(World, HundredThousandEntitiesWithUniqueNames) {
  WorldOptions o;
  o.n_train = 0;
  o.n_dev = 0;
  o.n_test = 0;
  o.n_entities = 100000;
  // (its speed is measured by bench/retrieval, which generates the same corpus)
  World w = world_generate(o);
  ASSERT_EQ(w.corpus.size(), 100000u);
  std::unordered_set<std::string> titles;
  for (const auto& p : w.corpus) EXPECT_TRUE(titles.insert(p.title).second) << p.title;
  EXPECT_TRUE(w.train.empty() && w.dev.empty() && w.test.empty());
}

TEST(World, BadOptionsAreNamed) {
  WorldOptions o;
  o.n_entities = 10;
  EXPECT_HAS(error_of([&] { world_generate(o); }), "--entities");
  o.n_entities = 0;
  o.n_train = -1;
  EXPECT_HAS(error_of([&] { world_generate(o); }), "--train");
  o.n_train = 5000;
  o.n_entities = 60;  // far too few entities for that many distinct questions
  EXPECT_HAS(error_of([&] { world_generate(o); }), "--entities");
}

}  // namespace
}  // namespace steper
