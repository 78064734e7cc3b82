#include "core/trace_json.h"

#include "core/error.h"
#include "core/loop_fields.h"
#include "core/io.h"

#include <cmath>
#include <cstdint>

namespace steper {

using nlohmann::json;

json to_json(const Passage& p) { return json{{"id", p.id}, {"title", p.title}, {"text", p.text}}; }

json to_json(const ScoredPassage& p) {
  json j = to_json(p.passage);
  j["score"] = p.score;
  return j;
}

const std::vector<LoopIntOption>& loop_int_options() {
  static const std::vector<LoopIntOption> options = {
      {"-k", "k", &LoopOptions::k, 1, 1000, "passages per retrieval"},
      {"--max-steps", "max_steps", &LoopOptions::max_steps, 1, 1000, "sentences at most"},
      {"--max-passages", "max_passages", &LoopOptions::max_passages, 1, 10000, "accumulated passages at most"},
      {"--passage-words", "passage_words", &LoopOptions::passage_words, 1, 1000000,
       "each passage cut to this many words"}};
  return options;
}

json to_json(const LoopOptions& o) {
  json j{{"framework", o.framework}, {"prompt_format", o.prompt_format}, {"mode", rag_mode_name(o.mode)}};
  for (const auto& f : loop_int_options()) j[f.field] = o.*f.member;
  return j;
}

json to_json(const Trace& t) {
  json steps = json::array();
  for (const auto& s : t.steps) {
    json ps = json::array(), shown = json::array();
    for (const auto& p : s.retrieved) ps.push_back(to_json(p));
    for (const auto& p : s.shown) shown.push_back(to_json(p));
    json js{{"query", s.query}, {"passages", ps}};
    if (t.has_loop) js["shown"] = shown;
    if (s.fitted()) js["fit"] = json{{"dropped", s.fit_dropped}, {"words", s.fit_words}};
    js["sentence"] = s.sentence;
    steps.push_back(std::move(js));
  }
  json j{{"id", t.id}, {"question", t.question}, {"answers", t.answers}, {"type", t.type}, {"hops", t.hops},
         {"teacher", t.teacher}};
  if (t.has_loop) j["loop"] = to_json(t.loop);
  j["steps"] = steps;
  j["answer"] = t.answer;
  j["answered"] = t.answered;
  j["end"] = trace_end_name(t.end);
  if (!t.end_detail.empty()) j["end_detail"] = t.end_detail;
  j["correct"] = t.correct;
  return j;
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

namespace {

std::string field_where(const std::string& where, const char* field) { return where + ": field \"" + field + "\""; }

Passage passage_from_json(const json& p, const std::string& where) {
  if (!p.is_object()) throw Error(where + " must be an object with id, title and text");
  return Passage{json_string(p, "id", where), json_text(p, "title", where), json_text(p, "text", where)};
}

// A step's "fit" (TraceStep::fit_dropped, fit_words) against the `shown` passages of P<=s.
void step_fit_from_json(const json& fit, size_t shown, const std::string& where, TraceStep& st) {
  if (!fit.is_object()) throw Error(where + " must be an object, got " + json_brief(fit));
  st.fit_dropped = static_cast<int>(json_int(fit, "dropped", where, 0, static_cast<int64_t>(shown)));
  st.fit_words = static_cast<int>(json_int(fit, "words", where, 0, INT32_MAX));
  if (st.fit_words > 0 && static_cast<size_t>(st.fit_dropped) == shown)
    throw Error(where + ": field \"words\" cuts a passage after all " + std::to_string(shown) + " were dropped");
}

}  // namespace

RagMode rag_mode_from_string(const std::string& s) {
  if (s == "multi") return RagMode::kMulti;
  if (s == "single") return RagMode::kSingle;
  if (s == "none") return RagMode::kNone;
  throw Error("--mode: expected multi, single or none, got \"" + s + "\"");
}

const char* rag_mode_name(RagMode m) {
  switch (m) {
    case RagMode::kMulti: return "multi";
    case RagMode::kSingle: return "single";
    case RagMode::kNone: return "none";
  }
  return "?";
}

const char* trace_end_name(TraceEnd e) {
  switch (e) {
    case TraceEnd::kAnswered: return "answered";
    case TraceEnd::kMaxSteps: return "max_steps";
    case TraceEnd::kEmptySentence: return "empty_sentence";
    case TraceEnd::kEvidenceMissing: return "evidence_missing";
    case TraceEnd::kNoSupportingFacts: return "no_supporting_facts";
    case TraceEnd::kRequestFailed: return "request_failed";
    case TraceEnd::kRepeatedFollowUp: return "repeated_follow_up";
    case TraceEnd::kNoFollowUp: return "no_follow_up";
    case TraceEnd::kContextFull: return "context_full";
  }
  return "?";
}

bool trace_end_from_name(const std::string& name, TraceEnd* out) {
  for (TraceEnd e : {TraceEnd::kAnswered, TraceEnd::kMaxSteps, TraceEnd::kEmptySentence, TraceEnd::kEvidenceMissing,
                     TraceEnd::kNoSupportingFacts, TraceEnd::kRequestFailed,
                     TraceEnd::kRepeatedFollowUp, TraceEnd::kNoFollowUp, TraceEnd::kContextFull})
    if (name == trace_end_name(e)) {
      *out = e;
      return true;
    }
  return false;
}

LoopOptions loop_options_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": field \"loop\" must be an object");
  const std::string w = where + ": loop";
  LoopOptions o;
  o.framework = json_text(j, "framework", w);
  o.prompt_format = json_text(j, "prompt_format", w);
  std::string mode = json_text(j, "mode", w);
  for (const auto& f : loop_int_options()) o.*f.member = static_cast<int>(json_int(j, f.field, w, f.lo, f.hi));
  if (mode != "multi" && mode != "single" && mode != "none")
    throw Error(field_where(w, "mode") + " must be multi, single or none, not \"" + mode + "\"");
  o.mode = rag_mode_from_string(mode);
  return o;
}

Trace trace_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": a trace must be a JSON object");
  Trace t;
  t.id = json_string(j, "id", where);
  t.question = json_text(j, "question", where);
  t.answers = json_string_array(j, "answers", where);
  t.type = json_text_or(j, "type", where, "");
  t.hops = static_cast<int>(json_int_or(j, "hops", where, 0, 0, 1000));
  t.teacher = json_text_or(j, "teacher", where, "");
  t.has_loop = json_find(j, "loop") != nullptr;
  if (t.has_loop) t.loop = loop_options_from_json(j["loop"], where);
  const json& steps = json_array(j, "steps", where);
  size_t shown_so_far = 0;  // P<=s, which a step's fit cuts
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string w = where + ": steps[" + std::to_string(i) + "]";
    const json& s = steps[i];
    if (!s.is_object()) throw Error(w + " must be an object");
    TraceStep st;
    st.query = json_text_or(s, "query", w, "");
    st.sentence = json_text(s, "sentence", w);
    if (json_find(s, "passages")) {
      const json& ps = json_array(s, "passages", w);
      for (size_t k = 0; k < ps.size(); ++k) {
        std::string pw = w + ": passages[" + std::to_string(k) + "]";
        ScoredPassage sp;
        sp.passage = passage_from_json(ps[k], pw);
        sp.score = json_number_or(ps[k], "score", pw, 0.0);
        st.retrieved.push_back(std::move(sp));
      }
    }
    if (t.has_loop) {
      const json& shown = json_array(s, "shown", w);
      for (size_t k = 0; k < shown.size(); ++k)
        st.shown.push_back(passage_from_json(shown[k], w + ": shown[" + std::to_string(k) + "]"));
      shown_so_far += st.shown.size();
      if (const json* fit = json_find(s, "fit")) step_fit_from_json(*fit, shown_so_far, w + ": fit", st);
    }
    t.steps.push_back(std::move(st));
  }
  t.answer = json_text_or(j, "answer", where, "");
  t.answered = json_bool_or(j, "answered", where, !t.answer.empty());
  std::string end = json_text_or(j, "end", where, t.answered ? "answered" : "max_steps");
  if (!trace_end_from_name(end, &t.end)) throw Error(field_where(where, "end") + ": unknown reason \"" + end + "\"");
  t.end_detail = json_text_or(j, "end_detail", where, "");
  t.correct = json_bool_or(j, "correct", where, false);
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
  e.step = static_cast<int>(json_int_or(j, "step", where, 0, 0, 1000000));
  e.prompt = json_text(j, "prompt", where);
  e.target = json_text(j, "target", where);
  return e;
}

Question question_from_json(const json& j, const std::string& where) {
  Question q;
  q.id = json_string(j, "id", where);
  q.question = json_text(j, "question", where);
  q.answers = json_string_array(j, "answers", where);
  q.type = json_text_or(j, "type", where, "");
  q.hops = static_cast<int>(json_int_or(j, "hops", where, 0, 0, 1000));
  if (j.contains("supporting_facts")) {
    const json& sf = json_array(j, "supporting_facts", where);
    for (size_t i = 0; i < sf.size(); ++i) {
      const json& f = sf[i];
      std::string w = where + ": supporting_facts[" + std::to_string(i) + "]";
      if (!f.is_array() || f.size() != 2 || !f[0].is_string() || !f[1].is_number_integer())
        throw Error(w + " must be [title, sentence index]");
      int64_t sent = f[1].get<int64_t>();
      if (sent < 0 || sent > 100000) throw Error(w + ": sentence index " + std::to_string(sent) + " is out of range");
      q.supporting_facts.push_back({f[0].get<std::string>(), static_cast<int>(sent)});
    }
  }
  if (j.contains("context")) {
    const json& ctx = json_array(j, "context", where);
    for (size_t i = 0; i < ctx.size(); ++i) {
      const json& c = ctx[i];
      std::string w = where + ": context[" + std::to_string(i) + "]";
      if (!c.is_array() || c.size() != 2 || !c[0].is_string() || !c[1].is_array())
        throw Error(w + " must be [title, [sentences]]");
      ContextParagraph p;
      p.title = c[0].get<std::string>();
      for (const auto& x : c[1]) {
        if (!x.is_string()) throw Error(w + ": every sentence must be a string");
        p.sentences.push_back(x.get<std::string>());
      }
      q.context.push_back(std::move(p));
    }
  }
  return q;
}

}  // namespace steper
