#include "distill/examples.h"

#include <set>

namespace steper {

// ---- passages seen up to each step

// P<=s for s = 1..S: each step's retrieved passages appended in order, de-duplicated by id, and
// capped at max_passages (once full, later passages are dropped), as the inference loop accumulates them.
static std::vector<std::vector<Passage>> accumulate_passages(const Trace& trace, int max_passages) {
  std::vector<std::vector<Passage>> per_step;
  std::vector<Passage> acc;
  std::set<std::string> seen;
  for (const auto& step : trace.steps) {
    for (const auto& sp : step.retrieved) {
      if (max_passages >= 0 && static_cast<int>(acc.size()) >= max_passages) break;
      if (!seen.insert(sp.passage.id).second) continue;
      acc.push_back(sp.passage);
    }
    per_step.push_back(acc);
  }
  return per_step;
}

static StepExample make_example(const Trace& trace, Task task, int step, const std::vector<Passage>& passages,
                                const std::vector<std::string>& sentences, const PromptOptions& opts) {
  StepExample e;
  e.id = trace.id + "/" + task_name(task) + "/" + std::to_string(step);
  e.task = task;
  e.step = step;
  e.prompt = build_prompt(trace.question, passages, opts);
  e.target = join_sentences(sentences);
  return e;
}

// ---- examples of one trace

std::vector<StepExample> build_step_examples(const Trace& trace, const PromptOptions& opts, int max_passages) {
  std::vector<StepExample> out;
  // Without an answer sentence there is no aggregation target: such a trace yields nothing.
  if (!trace.answered || trace.steps.empty()) return out;
  const int S = static_cast<int>(trace.steps.size());
  auto passages = accumulate_passages(trace, max_passages);
  std::vector<std::string> sentences;
  for (const auto& step : trace.steps) sentences.push_back(step.sentence);

  for (int s = 1; s <= S - 1; ++s) {
    std::vector<std::string> upto(sentences.begin(), sentences.begin() + s);  // R<=s
    out.push_back(make_example(trace, s == 1 ? Task::kInit : Task::kExp, s, passages[s - 1], upto, opts));
  }
  // agg: R<S followed by the answer sentence, i.e. every sentence of the trace.
  out.push_back(make_example(trace, Task::kAgg, S, passages[S - 1], sentences, opts));
  return out;
}

// ---- examples of many traces

std::vector<StepExample> build_examples(const std::vector<Trace>& traces, bool vanilla, const PromptOptions& opts,
                                        int max_passages) {
  std::vector<StepExample> out;
  for (const auto& t : traces) {
    for (auto& e : build_step_examples(t, opts, max_passages))
      if (!vanilla || e.task == Task::kAgg) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace steper
