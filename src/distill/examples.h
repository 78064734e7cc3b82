// StepER training examples from teacher traces (docs/DESIGN.md section 1's table), torch-free. Each
// example's prompt is, byte for byte, the prompt the loop's writer had at that step: it is rebuilt from
// what the trace recorded each step showed (TraceStep::shown), never from options assumed here.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

// For a trace with S steps (the last step's sentence is the answer sentence):
//   init: prompt(q, P<=1) -> R<=1;  exp s=2..S-1: prompt(q, P<=s) -> R<=s;  agg: prompt(q, P<=S) -> R<S + answer.
// P<=s is what steps 1..s showed. Prompt and target are the trace's framework's (rag/framework.h
// step_prompt, steps_text): under Self-Ask, init is the first follow-up and its intermediate answer, exp s
// the pairs up to s, agg every pair and the final answer. A trace without loop options is a bug here (see resolve_loop_options).
std::vector<StepExample> build_step_examples(const Trace& trace);
// vanilla = true keeps only the agg example of each trace (vanilla KD).
std::vector<StepExample> build_examples(const std::vector<Trace>& traces, bool vanilla);

// The id of the trace an example was built from: its own id ("<trace id>/<task>/<step>") without the last
// two parts. Packing (distill/packing.h) groups a trace's examples by it.
inline std::string example_trace_id(const std::string& example_id) {
  size_t step = example_id.rfind('/');
  size_t task = step == std::string::npos || step == 0 ? std::string::npos : example_id.rfind('/', step - 1);
  return task == std::string::npos ? example_id : example_id.substr(0, task);
}

// Makes every trace carry its loop options. Traces that record them keep them; a trace made before
// traces recorded them gets `given` (the command line's loop flags) and its shown passages rebuilt as
// that loop would have shown them. When `given_explicitly` (the user gave loop flags) and a trace
// records other options, throws Error naming `source`: examples are built from what each step saw. A
// trace whose framework or prompt format is unknown is an Error naming `source` and the trace.
// Returns how many traces got `given`.
size_t resolve_loop_options(std::vector<Trace>& traces, const LoopOptions& given, bool given_explicitly,
                            const std::string& source);

}  // namespace steper
