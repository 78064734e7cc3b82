// Evaluation of one (writer, mode) pair on a question set: runs the loop, scores every question, writes
// DIR/predictions.jsonl and DIR/metrics.json, prints the table. The writer and retriever are passed in,
// so one index and one loaded model serve several modes in a row.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"
#include "eval/report.h"
#include "rag/loop.h"

namespace steper {

struct EvalConfig {
  RagOptions rag;
  std::string out_dir;            // predictions.jsonl and metrics.json go here; empty = write nothing
  std::string model;              // recorded in metrics.json ("gold" or the model folder)
  std::string data;               // recorded in metrics.json (the question file)
  ReportOptions report;           // bootstrap settings
  bool show_progress = true;      // questions/s and time left on standard error
  bool print_table = true;        // the metrics table on standard output
  std::function<void()> on_question;  // called as each question finishes (from the calling thread)
};

struct EvalResult {
  std::vector<Trace> traces;      // in question order
  nlohmann::json metrics;         // what metrics.json holds
};

EvalResult eval_run(const std::vector<Question>& questions, Retriever* retriever, StepWriter& writer,
                    const EvalConfig& config);

// A trace for people: the question, then per step the query, the passage titles and the sentence, then
// the answer (and the gold answer with EM/F1 when the trace has one).
std::string format_trace_text(const Trace& trace);

// metrics.json's "fitted": {"prompts": steps whose prompt was fitted to the model's context, "questions":
// questions with such a step, "context_full": questions ended with no room left}.
nlohmann::json prompt_fit_counts(const std::vector<Trace>& traces);

// One line of predictions.jsonl: the trace (to_json(Trace)) plus "em", "f1", "acc" (0/1, 0..1).
nlohmann::json prediction_json(const Trace& trace);

// Several systems evaluated side by side on the same questions in several modes, `workers` systems at a
// time (one thread each): BASE.out_dir/<system>/<mode>/ gets each run's predictions and metrics, and one
// progress line covers them all. make_writer builds a system's writer for a mode's options (a model is
// loaded once per system when the factory caches it).
struct EvalSystem {
  std::string name;   // folder name and report row
  std::string model;  // recorded in metrics.json
  std::function<std::unique_ptr<StepWriter>(const RagOptions&)> make_writer;
};
struct EvalHooks {
  std::function<bool(const std::string& system, RagMode mode)> reuse;  // true: this run is already done
  std::function<void(const std::string& system, RagMode mode, const EvalResult& result)> finished;
};
void eval_systems(const std::vector<Question>& questions, Retriever* retriever, const std::vector<EvalSystem>& systems,
                  const std::vector<RagMode>& modes, const EvalConfig& base, size_t workers, const EvalHooks& hooks);

}  // namespace steper
