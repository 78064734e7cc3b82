// The loop's integer options, each defined once: its flag, its field (in a trace's "loop" and in a
// /v1/ask body), the range every reader checks, its help text.
#pragma once

#include <vector>

#include "core/types.h"

namespace steper {

struct LoopIntOption {
  const char* flag;   // "-k", "--max-steps", ...
  const char* field;  // "k", "max_steps", ...
  int LoopOptions::*member;
  int lo, hi;
  const char* help;
};
const std::vector<LoopIntOption>& loop_int_options();  // defined with the trace's JSON (core/trace_json.cpp)

}  // namespace steper
