#include "core/trace_file.h"

#include <unordered_map>

#include "core/error.h"
#include "core/io.h"
#include "core/trace_json.h"

namespace steper {

bool trace_line_kept(const nlohmann::json& line, const std::string& where) {
  for (const char* field : {"kept", "correct"}) {
    auto it = line.find(field);
    if (it == line.end()) continue;
    if (!it->is_boolean()) throw Error(where + ": field \"" + field + "\" must be true or false");
    return it->get<bool>();
  }
  return true;
}

TraceFile read_trace_file(const std::string& path, bool kept_only) {
  if (!file_exists(path)) throw Error(path + ": no such traces file");
  const std::string text = read_file(path);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw Error(path + ": no traces (the file is empty)");
  if (text.back() != '\n') {
    size_t from = text.find_last_of('\n');
    std::string last = text.substr(from == std::string::npos ? 0 : from + 1);
    if (!nlohmann::json::accept(last))
      throw Error(path + ": the last line is cut short (an interrupted teach run? rerun teach to finish it)");
  }
  TraceFile out;
  std::unordered_map<std::string, size_t> first_line;
  for_each_jsonl(path, [&](const nlohmann::json& j, size_t line) {
    const std::string where = path + ":" + std::to_string(line);
    Trace t = trace_from_json(j, where);
    auto [it, fresh] = first_line.emplace(t.id, line);
    if (!fresh)
      throw Error(where + ": question id \"" + t.id + "\" again (first on line " + std::to_string(it->second) + ")");
    ++out.lines;
    bool kept = trace_line_kept(j, where);
    if (kept && (t.steps.empty() || !t.answered || t.answers.empty()))
      throw Error(where + ": trace " + t.id + " is kept but has " +
                  (t.steps.empty() ? "no steps" : !t.answered ? "no answer sentence" : "no gold answer"));
    if (!kept) ++out.not_kept;
    if (kept || !kept_only) out.traces.push_back(std::move(t));
  });
  if (kept_only && out.traces.empty())
    throw Error(path + ": none of its " + std::to_string(out.lines) + " traces is kept");
  return out;
}

}  // namespace steper
