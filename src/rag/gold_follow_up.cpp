#include "rag/gold_follow_up.h"

#include <cctype>
#include <regex>
#include <vector>

#include "core/text.h"
#include "data/world_relations.h"

namespace steper {

namespace {

struct WordingPattern {
  std::regex re;
  int subject_group = 0;  // the capture group of {S}/{s}
  Rel rel;
};

// Lowercase, without a leading "the " (a passage writes "The Vern Academy" of the entity "Vern Academy").
std::string name_key(std::string s) {
  s = trim(s);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.rfind("the ", 0) == 0) s = s.substr(4);
  return s;
}

WordingPattern compile_wording(const std::string& wording, Rel rel) {
  static const std::string kSpecial = "\\^$.|?*+()[]{}";
  std::string re;
  int group = 0, subject = 0;
  for (size_t i = 0; i < wording.size(); ++i) {
    if (wording[i] == '{' && i + 2 < wording.size() && wording[i + 2] == '}') {
      char p = wording[i + 1];
      ++group;
      if (p == 'S' || p == 's') subject = group;
      re += p == 'V' ? "([0-9][0-9,.]*)" : "(.+)";
      i += 2;
      continue;
    }
    if (kSpecial.find(wording[i]) != std::string::npos) re += '\\';
    re += wording[i];
  }
  return WordingPattern{std::regex(re), subject, rel};
}

// Numeric relations first: "{S} was born in {V}." must win over "{S} was born in {O}." for a year.
const std::vector<WordingPattern>& patterns() {
  static const std::vector<WordingPattern> all = [] {
    std::vector<WordingPattern> out;
    for (bool numeric : {true, false})
      for (int r = 0; r < kRelCount; ++r) {
        const RelSpec& spec = rel_spec(static_cast<Rel>(r));
        if (spec.numeric != numeric) continue;
        for (const char* w : spec.wordings) out.push_back(compile_wording(w, static_cast<Rel>(r)));
      }
    return out;
  }();
  return all;
}

// Question wordings for the relations the world never ends a question with, and for any other sentence.
const std::vector<std::string> kPopulationQuestions = {"What is the population of {P}?", "How many people live in {P}?"};
const std::vector<std::string> kGenericQuestions = {"What is known about {P}?", "What do we know about {P}?"};

uint64_t fnv(const std::string& s, uint64_t h = 14695981039346656037ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string fill(const std::string& wording, const std::string& subject) {
  std::string out = wording;
  size_t at = out.find("{P}");
  if (at != std::string::npos) out.replace(at, 3, subject);
  return out;
}

std::string fact_sentence(const Question& q, const SupportingFact& f) {
  for (const auto& c : q.context)
    if (trim(c.title) == trim(f.title) && f.sent_id >= 0 && static_cast<size_t>(f.sent_id) < c.sentences.size())
      return trim(c.sentences[static_cast<size_t>(f.sent_id)]);
  return "";
}

}  // namespace

std::string world_relation_of(const std::string& sentence, const std::string& subject) {
  const std::string s = trim(sentence), want = name_key(subject);
  std::smatch m;
  for (const auto& p : patterns())
    if (std::regex_match(s, m, p.re) && name_key(m[static_cast<size_t>(p.subject_group)].str()) == want)
      return rel_spec(p.rel).name;
  return "";
}

std::string gold_follow_up(const Question& question, size_t fact, uint64_t seed) {
  const SupportingFact& f = question.supporting_facts.at(fact);
  const std::string subject = trim(f.title);
  const std::string rel = world_relation_of(fact_sentence(question, f), subject);
  std::vector<std::string> wordings;
  for (int r = 0; r < kRelCount && !rel.empty(); ++r) {
    const RelSpec& spec = rel_spec(static_cast<Rel>(r));
    if (spec.name != rel) continue;
    for (const char* w : spec.questions) wordings.push_back(w);
  }
  if (wordings.empty() && rel.find("population") != std::string::npos) wordings = kPopulationQuestions;
  if (wordings.empty()) wordings = kGenericQuestions;
  uint64_t h = fnv(question.id + "\x1f" + std::to_string(fact) + "\x1f" + std::to_string(seed));
  return fill(wordings[h % wordings.size()], subject);
}

}  // namespace steper
