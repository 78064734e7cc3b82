// Aggregate evaluation metrics over finished traces: EM/F1/Acc with bootstrap intervals, supporting-
// passage recall by step, steps and retrievals, unanswered share, all broken down by question type and
// hop count. Percentages throughout (0-100).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"

namespace steper {

// The per-question scores of one trace (best over the gold answer and its aliases; 0/1 or 0..1).
struct AnswerScores {
  double em = 0.0, f1 = 0.0, acc = 0.0;
};
AnswerScores score_trace(const Trace& trace);

// Share (0..1) of the question's supporting titles present among the passages retrieved by steps
// 1..step (cumulative); step beyond the trace's last step counts the whole trace. -1 when the
// question has no supporting facts.
double supporting_recall_at(const Trace& trace, const Question& question, size_t step);

struct ReportOptions {
  int bootstrap_samples = 1000;
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

// Bootstrap percentile interval (2.5%, 97.5%) of the mean of `values`, in the values' own unit.
std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, int samples, uint64_t seed);

}  // namespace steper
