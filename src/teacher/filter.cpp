#include "teacher/filter.h"

#include <set>

#include "core/error.h"
#include "eval/metrics.h"

namespace steper {

const char* const kReasonKept = "kept";
const char* const kReasonNoAnswer = "no answer";
const char* const kReasonWrongAnswer = "wrong answer";
const char* const kReasonEvidence = "evidence not retrieved";
const char* const kReasonNoSupportingFacts = "no supporting facts";
const char* const kReasonRequestFailed = "request failed";

KeepMetric keep_metric_from_string(const std::string& s) {
  if (s == "em") return KeepMetric::kEm;
  if (s == "acc") return KeepMetric::kAcc;
  throw Error("--keep must be em or acc, not \"" + s + "\"");
}

static std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> supporting_titles(const Question& question) {
  std::vector<std::string> titles;
  std::set<std::string> seen;
  for (const auto& f : question.supporting_facts) {
    std::string t = trim(f.title);
    if (seen.insert(t).second) titles.push_back(t);
  }
  return titles;
}

// ---- the retrieval rules

bool evidence_retrieved_by_step(const Trace& trace, const Question& question) {
  std::vector<std::string> titles;
  for (const auto& f : question.supporting_facts) titles.push_back(trim(f.title));
  if (titles.empty() || trace.steps.empty()) return false;
  // retrieved_by[s] = titles retrieved at steps 1..s+1
  std::set<std::string> seen;
  std::vector<std::set<std::string>> retrieved_by;
  for (const auto& step : trace.steps) {
    for (const auto& p : step.retrieved) seen.insert(trim(p.passage.title));
    retrieved_by.push_back(seen);
  }
  for (size_t s = 0; s < titles.size(); ++s) {
    size_t upto = std::min(s, retrieved_by.size() - 1);
    if (!retrieved_by[upto].count(titles[s])) return false;
  }
  return true;
}

bool evidence_retrieved(const Trace& trace, const Question& question) {
  auto titles = supporting_titles(question);
  if (titles.empty()) return false;
  std::set<std::string> seen;
  for (const auto& step : trace.steps)
    for (const auto& p : step.retrieved) seen.insert(trim(p.passage.title));
  for (const auto& t : titles)
    if (!seen.count(t)) return false;
  return true;
}

// ---- verdict

TraceVerdict judge_trace(const Trace& trace, const Question& question, KeepMetric metric, EvidenceRule evidence) {
  TraceVerdict v;
  if (!trace.answered || trace.answer.empty()) {
    v.reason = kReasonNoAnswer;
    return v;
  }
  v.em = best_exact_match(trace.answer, question.answers);
  v.acc = best_accuracy(trace.answer, question.answers);
  double score = metric == KeepMetric::kEm ? v.em : v.acc;
  if (score <= 0) {
    v.reason = kReasonWrongAnswer;
    return v;
  }
  if (evidence != EvidenceRule::kNone) {
    if (question.supporting_facts.empty()) {
      v.reason = kReasonNoSupportingFacts;
      return v;
    }
    bool ok = evidence == EvidenceRule::kByStep ? evidence_retrieved_by_step(trace, question)
                                                : evidence_retrieved(trace, question);
    if (!ok) {
      v.reason = kReasonEvidence;
      return v;
    }
  }
  v.kept = true;
  v.reason = kReasonKept;
  return v;
}

}  // namespace steper
