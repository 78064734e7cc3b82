#include "teacher/teach.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "core/trace_json.h"
#include "data/formats.h"
#include "teacher/openai_loop.h"

namespace steper {

using nlohmann::json;

// ---- summary

std::string teach_summary_path(const std::string& out) {
  const std::string ext = ".jsonl";
  if (out.size() > ext.size() && out.compare(out.size() - ext.size(), ext.size(), ext) == 0)
    return out.substr(0, out.size() - ext.size()) + ".summary.json";
  return out + ".summary.json";
}

json TeachSummary::to_json() const {
  json d = json::object();
  for (const auto& [reason, n] : dropped) d[reason] = n;
  double qps = seconds > 0 ? finished_this_run / seconds : 0.0;
  return json{{"questions", questions},
              {"finished", finished},
              {"kept", kept},
              {"dropped", d},
              {"already_done", already_done},
              {"this_run",
               {{"finished", finished_this_run},
                {"failed", failed},
                {"failures", failures},
                {"seconds", seconds},
                {"questions_per_second", qps}}},
              {"usage",
               {{"requests", usage.requests},
                {"attempts", usage.attempts},
                {"retries", usage.retries},
                {"failures", usage.failures},
                {"prompt_tokens", usage.prompt_tokens},
                {"completion_tokens", usage.completion_tokens}}}};
}

namespace {

// The options already in an output file must be the options of this run: one file, one set of options.
void check_same_options(const TeachOutput& existing, const LoopOptions& loop, const std::string& path) {
  for (size_t i = 0; i < existing.records.size(); ++i) {
    const Trace& t = existing.records[i].trace;
    if (!t.has_loop)
      throw Error(path + ": holds traces made before traces recorded their loop options; write to a new --out");
    if (t.loop != loop)
      throw Error(path + ": trace " + t.id + " was made with " + to_json(t.loop).dump() + ", this run would use " +
                  to_json(loop).dump() + "; write to a new --out or give the same options");
  }
}

// Makes the output file safe to append to: a torn last line is cut off, a whole last line without
// its newline gets one.
void repair_output_tail(const std::string& path, const TeachOutput& existing) {
  if (existing.torn_tail) {
    if (::truncate(path.c_str(), static_cast<off_t>(existing.complete_bytes)) != 0)
      throw Error(path + ": cannot cut off the torn last line: " + std::strerror(errno));
    std::fprintf(stderr, "steper: %s: ignored a torn last line (an interrupted run)\n", path.c_str());
  }
  if (existing.missing_newline) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    if (fd < 0 || ::write(fd, "\n", 1) != 1) {
      if (fd >= 0) ::close(fd);
      throw Error(path + ": cannot append: " + std::strerror(errno));
    }
    ::close(fd);
  }
}

}  // namespace

// ---- the run

TeachSummary teach_run_with(const TeachConfig& config, const TeachResources& resources) {
  if (config.out.empty()) throw Error("--out is required");
  const bool gold = config.teacher == "gold";
  const bool openai = config.teacher == "openai";
  if (!gold && !openai && resources.generator == nullptr)
    throw Error("--teacher \"" + config.teacher + "\": expected gold, openai or a model folder");

  // Questions, in data order, with unique ids.
  std::vector<Question> loaded;
  const std::vector<Question>* all = resources.questions;
  if (all == nullptr) {
    if (config.data_path.empty()) throw Error("--data is required");
    loaded = read_questions(config.data_path, config.strict);
    all = &loaded;
  }
  std::vector<Question> questions(all->begin(),
                                  all->begin() + (config.limit > 0 ? std::min(config.limit, all->size()) : all->size()));
  std::unordered_map<std::string, const Question*> by_id;
  for (const auto& q : questions)
    if (!by_id.emplace(q.id, &q).second)
      throw Error((config.data_path.empty() ? std::string("questions") : config.data_path) + ": duplicate question id \"" +
                  q.id + "\" (teach resumes by id)");

  // What earlier runs finished is never sent again.
  TeachOutput existing = read_teach_output(config.out);
  std::set<std::string> done;
  for (const auto& r : existing.records) done.insert(r.trace.id);
  std::vector<Question> todo;
  for (const auto& q : questions)
    if (!done.count(q.id)) todo.push_back(q);

  TeachSummary summary;
  summary.questions = questions.size();
  summary.already_done = questions.size() - todo.size();

  std::unique_ptr<Retriever> owned_retriever;
  Retriever* retriever = resources.retriever;
  if (retriever == nullptr && !todo.empty()) {
    if (config.index_dir.empty()) throw Error("--index is required");
    owned_retriever = bm25_open_index(config.index_dir);
    retriever = owned_retriever.get();
  }

  // The teacher.
  RagOptions rag = config.rag;
  rag.loop.mode = RagMode::kMulti;
  ServedModel served;
  std::unique_ptr<StepWriter> owned_writer;
  StepWriter* writer = nullptr;
  EvidenceRule evidence = config.require_evidence ? EvidenceRule::kAnyStep : EvidenceRule::kNone;
  validate_loop_options(rag.loop);
  check_same_options(existing, rag.loop, config.out);
  if (gold) {
    owned_writer = std::make_unique<GoldReader>(GoldPolicy::kRetrieved);
    evidence = EvidenceRule::kByStep;
  } else if (openai) {
    if (!todo.empty()) served = served_model(config.openai, rag, config.fewshot, questions);
    writer = served.writer.get();
  } else {
    owned_writer = std::make_unique<LmStepWriter>(*resources.generator, rag);
  }
  if (owned_writer) writer = owned_writer.get();

  // Run, appending each finished question as soon as it is done.
  if (!todo.empty()) {
    repair_output_tail(config.out, existing);
    JsonlAppender appender(config.out);
    Progress progress("teach", todo.size(), "questions");
    size_t kept_now = 0;
    auto on_done = [&](const Trace& finished) {
      auto it = by_id.find(finished.id);
      if (finished.end == TraceEnd::kRequestFailed || it == by_id.end()) {
        ++summary.failed;
        std::string why = it == by_id.end() ? "the loop returned an unknown question id" : finished.end_detail;
        summary.failures.push_back(finished.id + ": " + why);
        std::fprintf(stderr, "steper: question %s failed (will be retried by a rerun): %s\n", finished.id.c_str(),
                     why.c_str());
      } else {
        Trace t = finished;
        if (t.teacher.empty()) t.teacher = gold ? "gold" : (openai ? config.openai.model : config.teacher);
        TraceVerdict v = judge_trace(t, *it->second, config.keep, evidence);
        t.correct = (config.keep == KeepMetric::kEm ? v.em : v.acc) > 0;
        json line = to_json(t);
        line["kept"] = v.kept;
        line["reason"] = v.reason;
        line["em"] = v.em;
        line["acc"] = v.acc;
        appender.append(line);
        ++summary.finished_this_run;
        kept_now += v.kept;
      }
      if (config.show_progress)
        progress.add(1, "kept " + std::to_string(kept_now) + ", failed " + std::to_string(summary.failed));
    };
    rag_run(todo, retriever, *writer, rag, on_done);
    if (config.show_progress) progress.finish("kept " + std::to_string(kept_now) + ", failed " + std::to_string(summary.failed));
    summary.seconds = progress.elapsed_seconds();
  }
  if (served.generator) summary.usage = served.generator->usage();

  // Totals over the whole output file (earlier runs included).
  for (const auto& r : read_teach_output(config.out).records) {
    if (!by_id.count(r.trace.id)) continue;
    ++summary.finished;
    if (r.kept) ++summary.kept;
    else ++summary.dropped[r.reason.empty() ? "dropped" : r.reason];
  }
  json sj = summary.to_json();
  sj["teacher"] = config.teacher;
  sj["out"] = config.out;
  if (!config.data_path.empty()) sj["data"] = config.data_path;
  sj["keep"] = config.keep == KeepMetric::kEm ? "em" : "acc";
  sj["loop"] = to_json(rag.loop);
  write_json_atomic(teach_summary_path(config.out), sj);
  return summary;
}

}  // namespace steper
