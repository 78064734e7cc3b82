// `steper teach`: runs the multi-step loop with a teacher over a data set and writes one line per
// finished question (append-only, resumable by id), with a keep/drop verdict, plus a summary JSON.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/generator.h"
#include "core/types.h"
#include "rag/loop.h"
#include "retrieval/retriever.h"
#include "teacher/filter.h"
#include "teacher/openai.h"

namespace steper {

struct TeachConfig {
  std::string data_path;         // --data (any question format data/formats.h reads)
  bool strict = false;           // --strict: a defective record refuses the file (else it is skipped, named)
  std::string index_dir;         // --index
  std::string teacher = "gold";  // gold | openai | a model folder
  OpenAIOptions openai;          // --base-url --model --api-key-env --endpoint --concurrency
  std::string fewshot = "auto";  // OpenAI teacher: auto | hotpotqa | 2wiki | musique | world | none | FILE
  RagOptions rag;                // the loop options (-k --max-steps --max-passages --passage-words)
  KeepMetric keep = KeepMetric::kEm;
  bool require_evidence = false;  // non-gold teachers too: every supporting title retrieved somewhere
  size_t limit = 0;               // first N questions only; 0 = all
  std::string out;                // --out (JSONL)
  std::string device = "cpu";     // model-folder teacher
  bool show_progress = true;
};

// Pieces a caller may supply instead of having them built from the config (tests, the demo).
struct TeachResources {
  const std::vector<Question>* questions = nullptr;  // else read from data_path
  Retriever* retriever = nullptr;                     // else bm25_open_index(index_dir)
  TextGenerator* generator = nullptr;                 // required when the teacher is a model folder
};

struct TeachSummary {
  size_t questions = 0;       // after --limit
  size_t already_done = 0;    // finished by earlier runs (skipped)
  size_t finished = 0;        // lines in the output for these questions, earlier runs included
  size_t kept = 0;            // of those, kept
  std::map<std::string, size_t> dropped;  // reason -> count, of the finished ones
  size_t failed = 0;          // this run: requests failed after all retries (not written; rerun retries them)
  size_t finished_this_run = 0;
  double seconds = 0;
  OpenAIUsage usage;          // this run, OpenAI teacher only
  std::vector<std::string> failures;  // "<id>: <error>" for this run's failed questions
  nlohmann::json to_json() const;
};

// The summary file written beside the output: "x.jsonl" -> "x.summary.json".
std::string teach_summary_path(const std::string& out);

// Everything except loading a model folder (torch-free).
TeachSummary teach_run_with(const TeachConfig& config, const TeachResources& resources = {});
// As teach_run_with, loading a model folder teacher itself (steper_teacher).
TeachSummary teach_run(const TeachConfig& config);

// ---- the output file

struct TeachRecord {
  Trace trace;
  bool kept = false;
  std::string reason;
};

struct TeachOutput {
  std::vector<TeachRecord> records;
  size_t complete_bytes = 0;   // bytes up to and including the last complete line
  bool torn_tail = false;      // a last line cut short by a kill (ignored)
  bool missing_newline = false;  // the last line is whole but lacks its newline
};

// Reads a teach output file (missing file = empty). A torn last line is tolerated; any other malformed
// line throws Error naming file:line. A line without "kept" (a plain trace file) counts as kept when correct.
TeachOutput read_teach_output(const std::string& path);
// The kept traces of a teach output file (all traces when kept_only is false), read strictly by
// core/trace_file.h's read_trace_file.
std::vector<Trace> read_teach_traces(const std::string& path, bool kept_only = true);

}  // namespace steper
