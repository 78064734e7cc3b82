#include "distill/examples.h"

#include "core/error.h"
#include "core/evidence.h"
#include "core/trace_json.h"
#include "rag/framework.h"
#include "rag/loop.h"

namespace steper {

static StepExample make_example(const Trace& trace, Task task, int step, const std::vector<Passage>& shown,
                                const std::vector<std::string>& sentences) {
  StepExample e;
  e.id = trace.id + "/" + task_name(task) + "/" + std::to_string(step);
  e.task = task;
  e.step = step;
  e.prompt = step_prompt(trace.loop, trace.question, shown, {});
  e.target = steps_text(trace.loop, sentences);
  return e;
}

std::vector<StepExample> build_step_examples(const Trace& trace) {
  if (!trace.has_loop) throw BugError(__FILE__, __LINE__, "trace " + trace.id + " has no loop options");
  std::vector<StepExample> out;
  // Without an answer sentence there is no aggregation target: such a trace yields nothing.
  if (!trace.answered || trace.steps.empty()) return out;
  const int S = static_cast<int>(trace.steps.size());
  std::vector<std::vector<Passage>> shown = shown_by_step(trace);
  std::vector<std::string> sentences;
  for (const auto& step : trace.steps) sentences.push_back(step.sentence);

  for (int s = 1; s <= S - 1; ++s) {
    std::vector<std::string> upto(sentences.begin(), sentences.begin() + s);  // R<=s
    out.push_back(make_example(trace, s == 1 ? Task::kInit : Task::kExp, s, shown[s - 1], upto));
  }
  // agg: R<S followed by the answer sentence, i.e. every sentence of the trace.
  out.push_back(make_example(trace, Task::kAgg, S, shown[S - 1], sentences));
  return out;
}

std::vector<StepExample> build_examples(const std::vector<Trace>& traces, bool vanilla) {
  std::vector<StepExample> out;
  for (const auto& t : traces) {
    for (auto& e : build_step_examples(t))
      if (!vanilla || e.task == Task::kAgg) out.push_back(std::move(e));
  }
  return out;
}

size_t resolve_loop_options(std::vector<Trace>& traces, const LoopOptions& given, bool given_explicitly,
                            const std::string& source) {
  validate_loop_options(given);
  size_t assumed = 0;
  for (auto& t : traces) {
    if (t.has_loop) {
      try {
        validate_framework(t.loop);
      } catch (const Error& e) {
        throw Error(source + ": trace " + t.id + ": " + e.what());
      }
      if (given_explicitly && t.loop != given)
        throw Error(source + ": trace " + t.id + " was made with " + to_json(t.loop).dump() +
                    ", not the loop flags given (" + to_json(given).dump() +
                    "); examples are built from what each step saw, so leave the flags out");
      continue;
    }
    trace_assume_options(t, given);
    ++assumed;
  }
  return assumed;
}

}  // namespace steper
