// The one reader of trace files for their consumers (`steper examples`, `steper train`): a teach output
// or any file of traces, one JSON object a line (docs/DESIGN.md section 3). Strict where teach's own
// resume reader (teacher/teach.h read_teach_output) is lenient: nothing is silently dropped.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"

namespace steper {

// Teach's verdict of a line: "kept" when present (must be a boolean), else "correct" (a plain trace file),
// else kept. `where` names file and line.
bool trace_line_kept(const nlohmann::json& line, const std::string& where);

struct TraceFile {
  std::vector<Trace> traces;  // in file order (only the kept ones when read with kept_only)
  size_t lines = 0;           // traces in the file
  size_t not_kept = 0;        // of those, dropped by the teacher's verdict
};

// Reads every line as a trace. Errors naming file and line: a missing or empty file, a malformed or cut
// line (a torn last line included), a field of the wrong type, a question id seen twice, a kept trace
// with no steps, no answer sentence or no gold answer; and, with kept_only, a file whose traces were all dropped.
TraceFile read_trace_file(const std::string& path, bool kept_only);

}  // namespace steper
