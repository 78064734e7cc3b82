#include "teacher/teach.h"

#include "core/error.h"
#include "core/io.h"
#include "core/trace_file.h"
#include "core/trace_json.h"

namespace steper {

using nlohmann::json;

TeachOutput read_teach_output(const std::string& path) {
  TeachOutput out;
  if (!file_exists(path)) return out;
  // A torn last line was cut short by a kill: ignored, and cut off before the next append.
  const JsonlEnd end = for_each_jsonl(path, [&](const json& j, size_t lineno) {
    const std::string where = path + ":" + std::to_string(lineno);
    TeachRecord r;
    r.trace = trace_from_json(j, where);
    r.kept = trace_line_kept(j, where);
    r.reason = json_text_or(j, "reason", where, r.kept ? "kept" : "");
    out.records.push_back(std::move(r));
  }, JsonlTail::kTornTail);
  static_cast<JsonlEnd&>(out) = end;
  return out;
}

std::vector<Trace> read_teach_traces(const std::string& path, bool kept_only) {
  return read_trace_file(path, kept_only).traces;
}

}  // namespace steper
