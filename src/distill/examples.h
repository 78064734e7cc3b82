// StepER training examples from teacher traces (DESIGN.md section 1's table), torch-free.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"
#include "rag/prompt.h"

namespace steper {

// For a trace with S steps (the last step's sentence is the answer sentence):
//   init: prompt(q, P<=1) -> R<=1;  exp s=2..S-1: prompt(q, P<=s) -> R<=s;  agg: prompt(q, P<=S) -> R<S + answer.
// P<=s accumulates each step's retrieved passages, de-duplicated and capped as the inference loop does.
std::vector<StepExample> build_step_examples(const Trace& trace, const PromptOptions& opts = {},
                                             int max_passages = 15);
// vanilla = true keeps only the agg example of each trace (vanilla KD).
std::vector<StepExample> build_examples(const std::vector<Trace>& traces, bool vanilla,
                                        const PromptOptions& opts = {}, int max_passages = 15);

}  // namespace steper
