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
  std::string text = read_file(path);
  size_t pos = 0, lineno = 0;
  while (pos < text.size()) {
    ++lineno;
    size_t nl = text.find('\n', pos);
    bool last = nl == std::string::npos;
    std::string line = text.substr(pos, last ? std::string::npos : nl - pos);
    size_t end = last ? text.size() : nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      if (!last) out.complete_bytes = end;
      pos = end;
      continue;
    }
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      if (last) {  // cut short by a kill: ignored, and cut off before the next append
        out.torn_tail = true;
        break;
      }
      throw file_error(path, lineno, std::string("malformed JSON: ") + e.what());
    }
    std::string where = path + ":" + std::to_string(lineno);
    TeachRecord r;
    r.trace = trace_from_json(j, where);
    r.kept = trace_line_kept(j, where);
    auto reason = j.find("reason");
    if (reason != j.end() && !reason->is_string()) throw Error(where + ": field \"reason\" must be a string");
    r.reason = reason == j.end() ? std::string(r.kept ? "kept" : "") : reason->get<std::string>();
    out.records.push_back(std::move(r));
    out.complete_bytes = end;
    if (last) out.missing_newline = true;
    pos = end;
  }
  return out;
}

std::vector<Trace> read_teach_traces(const std::string& path, bool kept_only) {
  return read_trace_file(path, kept_only).traces;
}

}  // namespace steper
