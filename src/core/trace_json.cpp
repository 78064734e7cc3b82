#include "core/trace_json.h"

#include "core/error.h"
#include "core/io.h"

namespace steper {

using nlohmann::json;

json to_json(const Passage& p) { return json{{"id", p.id}, {"title", p.title}, {"text", p.text}}; }

json to_json(const ScoredPassage& p) {
  json j = to_json(p.passage);
  j["score"] = p.score;
  return j;
}

json to_json(const Trace& t) {
  json steps = json::array();
  for (const auto& s : t.steps) {
    json ps = json::array();
    for (const auto& p : s.retrieved) ps.push_back(to_json(p));
    steps.push_back(json{{"query", s.query}, {"passages", ps}, {"sentence", s.sentence}});
  }
  return json{{"id", t.id},         {"question", t.question}, {"answers", t.answers},
              {"type", t.type},     {"hops", t.hops},         {"teacher", t.teacher},
              {"steps", steps},     {"answer", t.answer},     {"answered", t.answered},
              {"correct", t.correct}};
}

json to_json(const StepExample& e) {
  return json{{"id", e.id}, {"task", task_name(e.task)}, {"step", e.step}, {"prompt", e.prompt}, {"target", e.target}};
}

json to_json(const Question& q) {
  json sf = json::array();
  for (const auto& f : q.supporting_facts) sf.push_back(json::array({f.title, f.sent_id}));
  json ctx = json::array();
  for (const auto& c : q.context) ctx.push_back(json::array({c.title, c.sentences}));
  return json{{"id", q.id},     {"question", q.question}, {"answers", q.answers},        {"type", q.type},
              {"hops", q.hops}, {"supporting_facts", sf}, {"context", ctx}};
}

static std::vector<std::string> string_list(const json& j, const char* field, const std::string& where) {
  const json& v = json_field(j, field, where);
  if (!v.is_array()) throw Error(where + ": field \"" + field + "\" must be an array of strings");
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string()) throw Error(where + ": field \"" + field + "\" must be an array of strings");
    out.push_back(x.get<std::string>());
  }
  return out;
}

Trace trace_from_json(const json& j, const std::string& where) {
  Trace t;
  t.id = json_string(j, "id", where);
  t.question = json_string(j, "question", where);
  t.answers = string_list(j, "answers", where);
  t.type = j.value("type", "");
  t.hops = j.value("hops", 0);
  t.teacher = j.value("teacher", "");
  const json& steps = json_field(j, "steps", where);
  if (!steps.is_array()) throw Error(where + ": field \"steps\" must be an array");
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string w = where + ": steps[" + std::to_string(i) + "]";
    const json& s = steps[i];
    TraceStep st;
    st.query = s.value("query", "");
    st.sentence = json_string(s, "sentence", w);
    if (s.contains("passages")) {
      for (const auto& p : s["passages"]) {
        ScoredPassage sp;
        sp.passage.id = json_string(p, "id", w);
        sp.passage.title = json_string(p, "title", w);
        sp.passage.text = json_string(p, "text", w);
        sp.score = p.value("score", 0.0);
        st.retrieved.push_back(std::move(sp));
      }
    }
    t.steps.push_back(std::move(st));
  }
  t.answer = j.value("answer", "");
  t.answered = j.value("answered", !t.answer.empty());
  t.correct = j.value("correct", false);
  return t;
}

StepExample example_from_json(const json& j, const std::string& where) {
  StepExample e;
  e.id = json_string(j, "id", where);
  std::string task = json_string(j, "task", where);
  if (task == "init") e.task = Task::kInit;
  else if (task == "exp") e.task = Task::kExp;
  else if (task == "agg") e.task = Task::kAgg;
  else throw Error(where + ": field \"task\" must be init, exp or agg, not \"" + task + "\"");
  e.step = j.value("step", 0);
  e.prompt = json_string(j, "prompt", where);
  e.target = json_string(j, "target", where);
  return e;
}

Question question_from_json(const json& j, const std::string& where) {
  Question q;
  q.id = json_string(j, "id", where);
  q.question = json_string(j, "question", where);
  q.answers = string_list(j, "answers", where);
  q.type = j.value("type", "");
  q.hops = j.value("hops", 0);
  if (j.contains("supporting_facts"))
    for (const auto& f : j["supporting_facts"]) q.supporting_facts.push_back({f.at(0).get<std::string>(), f.at(1).get<int>()});
  if (j.contains("context"))
    for (const auto& c : j["context"]) q.context.push_back({c.at(0).get<std::string>(), c.at(1).get<std::vector<std::string>>()});
  return q;
}

}  // namespace steper
