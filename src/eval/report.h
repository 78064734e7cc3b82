// Aggregate evaluation metrics over finished traces: EM/F1/Acc with bootstrap intervals, supporting-
// passage recall by step, steps and retrievals, unanswered share, all broken down by question type and
// hop count. Percentages throughout (0-100).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/evidence.h"
#include "core/types.h"
#include "eval/bootstrap.h"

namespace steper {

// The per-question scores of one trace (best over the gold answer and its aliases; 0/1 or 0..1).
struct AnswerScores {
  double em = 0.0, f1 = 0.0, acc = 0.0;
};
AnswerScores score_trace(const Trace& trace);

struct ReportOptions {
  int bootstrap_samples = 1000;  // --bootstrap, at least kMinBootstrapSamples
  uint64_t bootstrap_seed = 1;
};

// Metrics JSON:
//   {"n","em","f1","acc","em_ci":[lo,hi],"f1_ci","acc_ci","answered","unanswered","steps","retrievals",
//    "passages","recall","recall_by_step":[...],"by_type":{type:{...}},"by_hops":{"2":{...}}}
// Traces are matched to questions by id; a trace without its question throws Error.
nlohmann::json eval_metrics(const std::vector<Trace>& traces, const std::vector<Question>& questions,
                            const ReportOptions& opts = {});

// The metrics as a fixed-width table for people: overall, then one row per type and per hop count.
std::string format_metrics_table(const nlohmann::json& metrics);

}  // namespace steper
