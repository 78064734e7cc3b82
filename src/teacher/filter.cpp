#include "teacher/filter.h"

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

// ---- verdict

TraceVerdict judge_trace(const Trace& trace, const Question& question, KeepMetric metric, EvidenceRule evidence) {
  TraceVerdict v;
  if (trace.end == TraceEnd::kEvidenceMissing) {
    v.reason = kReasonEvidence;
    return v;
  }
  if (trace.end == TraceEnd::kNoSupportingFacts) {
    v.reason = kReasonNoSupportingFacts;
    return v;
  }
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
    bool ok = evidence == EvidenceRule::kByStep ? evidence_shown_by_step(trace, question)
                                                : evidence_shown(trace, question);
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
