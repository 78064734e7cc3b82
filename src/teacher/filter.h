// Which teacher traces become training data: correct final answers (EM or Acc), and for the
// gold-evidence teacher, every step's supporting passage retrieved by that step.
#pragma once

#include <string>

#include "core/evidence.h"
#include "core/types.h"

namespace steper {

enum class KeepMetric { kEm, kAcc };
KeepMetric keep_metric_from_string(const std::string& s);  // "em" | "acc"; throws Error naming --keep

// Reasons a trace is dropped, as written in the teach output and summary.
extern const char* const kReasonKept;               // "kept"
extern const char* const kReasonNoAnswer;           // "no answer"
extern const char* const kReasonWrongAnswer;        // "wrong answer"
extern const char* const kReasonEvidence;           // "evidence not retrieved"
extern const char* const kReasonNoSupportingFacts;  // "no supporting facts"
extern const char* const kReasonRequestFailed;      // "request failed" (never written: retried on resume)

// kByStep: evidence_shown_by_step; kAnyStep: evidence_shown (core/evidence.h).
enum class EvidenceRule { kNone, kByStep, kAnyStep };

struct TraceVerdict {
  bool kept = false;
  std::string reason;  // one of the kReason* strings
  double em = 0, acc = 0;
};

TraceVerdict judge_trace(const Trace& trace, const Question& question, KeepMetric metric, EvidenceRule evidence);

}  // namespace steper
