#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "core/evidence.h"
#include "eval/bootstrap.h"
#include "eval/metrics.h"

namespace steper {

using nlohmann::json;

// ---- Per question

AnswerScores score_trace(const Trace& trace) {
  AnswerScores s;
  if (!trace.answered) return s;
  s.em = best_exact_match(trace.answer, trace.answers);
  s.f1 = best_f1(trace.answer, trace.answers);
  s.acc = best_accuracy(trace.answer, trace.answers);
  return s;
}

// ---- Groups

namespace {

struct Row {
  const Trace* trace;
  const Question* question;
  AnswerScores scores;
};

double round2(double x) { return std::round(x * 100.0) / 100.0; }

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

json summarize(const std::vector<const Row*>& rows, const ReportOptions& opts) {
  std::vector<double> em, f1, acc, answered, steps, retrievals, passages, recall;
  size_t max_steps = 0;
  for (const Row* r : rows) {
    em.push_back(r->scores.em);
    f1.push_back(r->scores.f1);
    acc.push_back(r->scores.acc);
    answered.push_back(r->trace->answered ? 1.0 : 0.0);
    steps.push_back(static_cast<double>(r->trace->steps.size()));
    double n_retrievals = 0;
    std::set<std::string> ids;
    for (const auto& st : r->trace->steps) {
      if (!st.query.empty()) n_retrievals += 1;
      for (const auto& p : st.retrieved) ids.insert(p.passage.id);
    }
    retrievals.push_back(n_retrievals);
    passages.push_back(static_cast<double>(ids.size()));
    double rc = supporting_recall_at(*r->trace, *r->question, r->trace->steps.size());
    if (rc >= 0) recall.push_back(rc);
    max_steps = std::max(max_steps, r->trace->steps.size());
  }
  json j;
  j["n"] = rows.size();
  auto pct = [](double x) { return round2(100.0 * x); };
  j["em"] = pct(mean(em));
  j["f1"] = pct(mean(f1));
  j["acc"] = pct(mean(acc));
  int seed_offset = 0;
  for (auto [name, values] : {std::pair<const char*, std::vector<double>*>{"em_ci", &em}, {"f1_ci", &f1}, {"acc_ci", &acc}}) {
    auto ci = bootstrap_mean_interval(*values, opts.bootstrap_samples, opts.bootstrap_seed + 7919 * seed_offset++);
    j[name] = json::array({pct(ci.first), pct(ci.second)});
  }
  j["answered"] = pct(mean(answered));
  j["unanswered"] = rows.empty() ? 0.0 : round2(100.0 - 100.0 * mean(answered));
  j["steps"] = round2(mean(steps));
  j["retrievals"] = round2(mean(retrievals));
  j["passages"] = round2(mean(passages));
  j["recall_n"] = recall.size();
  if (recall.empty()) {
    j["recall"] = nullptr;
    j["recall_by_step"] = json::array();
  } else {
    j["recall"] = pct(mean(recall));
    json by_step = json::array();
    for (size_t s = 1; s <= max_steps; ++s) {
      std::vector<double> at;
      for (const Row* r : rows) {
        double rc = supporting_recall_at(*r->trace, *r->question, s);
        if (rc >= 0) at.push_back(rc);
      }
      by_step.push_back(pct(mean(at)));
    }
    j["recall_by_step"] = by_step;
  }
  return j;
}

}  // namespace

json eval_metrics(const std::vector<Trace>& traces, const std::vector<Question>& questions,
                  const ReportOptions& opts) {
  std::unordered_map<std::string, const Question*> by_id;
  for (const auto& q : questions) by_id[q.id] = &q;
  std::vector<Row> rows;
  rows.reserve(traces.size());
  for (const auto& t : traces) {
    auto it = by_id.find(t.id);
    if (it == by_id.end()) throw Error("eval: trace \"" + t.id + "\" has no matching question");
    rows.push_back(Row{&t, it->second, score_trace(t)});
  }
  std::vector<const Row*> all;
  std::map<std::string, std::vector<const Row*>> by_type;
  std::map<int, std::vector<const Row*>> by_hops;
  for (const auto& r : rows) {
    all.push_back(&r);
    by_type[r.question->type.empty() ? std::string("unknown") : r.question->type].push_back(&r);
    by_hops[r.question->hops].push_back(&r);
  }
  json j = summarize(all, opts);
  json types = json::object();
  for (const auto& [type, group] : by_type) types[type] = summarize(group, opts);
  json hops = json::object();
  for (const auto& [h, group] : by_hops) hops[h == 0 ? std::string("unknown") : std::to_string(h)] = summarize(group, opts);
  j["by_type"] = types;
  j["by_hops"] = hops;
  j["bootstrap"] = json{{"samples", opts.bootstrap_samples}, {"seed", opts.bootstrap_seed}, {"level", 95}};
  return j;
}

// ---- Table

std::string format_metrics_table(const json& m) {
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-18s %6s %19s %19s %19s %7s %6s %6s %7s\n", "", "n", "EM [95% CI]",
                "F1 [95% CI]", "Acc [95% CI]", "no-ans", "steps", "retr", "recall");
  out += buf;
  auto row = [&](const std::string& label, const json& g) {
    auto cell = [&](const char* key, const char* ci) {
      char c[64];
      std::snprintf(c, sizeof c, "%5.1f [%5.1f,%5.1f]", g.value(key, 0.0), g[ci][0].get<double>(),
                    g[ci][1].get<double>());
      return std::string(c);
    };
    std::string recall = g["recall"].is_null() ? "-" : [&] {
      char c[32];
      std::snprintf(c, sizeof c, "%.1f", g["recall"].get<double>());
      return std::string(c);
    }();
    std::snprintf(buf, sizeof buf, "%-18s %6zu %19s %19s %19s %6.1f%% %6.2f %6.2f %7s\n", label.c_str(),
                  g.value("n", static_cast<size_t>(0)), cell("em", "em_ci").c_str(), cell("f1", "f1_ci").c_str(),
                  cell("acc", "acc_ci").c_str(), g.value("unanswered", 0.0), g.value("steps", 0.0),
                  g.value("retrievals", 0.0), recall.c_str());
    out += buf;
  };
  row("all", m);
  if (m.contains("by_type"))
    for (const auto& [k, g] : m["by_type"].items()) row("type " + k, g);
  if (m.contains("by_hops"))
    for (const auto& [k, g] : m["by_hops"].items()) row("hops " + k, g);
  if (m.contains("recall_by_step") && !m["recall_by_step"].empty()) {
    out += "supporting-passage recall by step (%):";
    for (const auto& v : m["recall_by_step"]) {
      std::snprintf(buf, sizeof buf, " %.1f", v.get<double>());
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace steper
