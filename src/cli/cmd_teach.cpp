// steper teach: teacher traces over a data set (append-only JSONL, resumable), filtered for training.
#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/openai_flags.h"
#include "core/trace_json.h"
#include "core/error.h"
#include "teacher/teach.h"

namespace steper {
namespace {

CommandRegistrar reg({"teach", "Teacher traces over a data set: one JSON line per finished question, resumable",
                      [](CLI::App* sub) {
  auto c = std::make_shared<TeachConfig>();
  auto keep = std::make_shared<std::string>("em");
  auto limit = std::make_shared<int>(0);
  sub->add_option("--data", c->data_path, "questions (HotpotQA, 2Wiki, MuSiQue, IRCoT or HF datasets format)")->required();
  sub->add_option("--index", c->index_dir, "BM25 index folder")->required();
  sub->add_option("--teacher", c->teacher, "gold, openai or a model folder")->required();
  sub->add_option("--out", c->out, "output JSONL (appended to; a rerun resumes)")->required();
  sub->add_option("--base-url", c->openai.base_url, "OpenAI-compatible server, http(s)://HOST:PORT[/v1]")
      ->capture_default_str();
  sub->add_option("--model", c->openai.model, "model name sent to the server");
  auto served = add_openai_flags(sub);
  add_strict_flag(sub, c->strict);
  auto loop = add_loop_flags(sub, LoopUse::kTeach);
  sub->add_option("--limit", *limit, "first N questions only (0 = all)")->check(CLI::NonNegativeNumber)->capture_default_str();
  sub->add_option("--keep", *keep, "keep traces whose answer is correct by em or acc")->capture_default_str();
  sub->add_flag("--require-evidence", c->require_evidence,
                "also require every supporting paragraph retrieved (always on for the gold teacher)");
  add_device_flag(sub, c->device);
  return std::function<int()>([=] {
    TeachConfig config = *c;
    config.rag = loop->resolve();
    if (*limit < 0) throw Error("--limit must not be negative");
    config.limit = static_cast<size_t>(*limit);
    config.keep = keep_metric_from_string(*keep);
    const std::string base_url = config.openai.base_url, name = config.openai.model;
    config.openai = served->resolve();
    config.openai.base_url = base_url;
    config.openai.model = name;
    config.fewshot = served->fewshot;
    if (config.teacher == "openai" && config.openai.model.empty())
      throw Error("--teacher openai needs --model NAME");
    TeachSummary s = teach_run(config);
    std::fprintf(stderr, "teach: %zu questions, %zu finished (%zu earlier), %zu kept", s.questions, s.finished,
                 s.already_done, s.kept);
    for (const auto& [reason, n] : s.dropped) std::fprintf(stderr, ", %zu %s", n, reason.c_str());
    if (s.failed > 0) std::fprintf(stderr, ", %zu failed this run (rerun to retry)", s.failed);
    std::fprintf(stderr, "\nteach: loop options %s recorded in every trace; summary in %s\n",
                 to_json(config.rag.loop).dump().c_str(), teach_summary_path(config.out).c_str());
    return s.failed > 0 ? 2 : 0;
  });
}});

}  // namespace
}  // namespace steper
