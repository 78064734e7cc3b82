#include "rag/evaluate.h"

#include <atomic>
#include <memory>

#include <cstdio>

#include "core/io.h"
#include "core/side_by_side.h"
#include "core/progress.h"
#include "core/trace_json.h"

namespace steper {

using nlohmann::json;

json prediction_json(const Trace& trace) {
  json j = to_json(trace);
  AnswerScores s = score_trace(trace);
  j["em"] = s.em;
  j["f1"] = s.f1;
  j["acc"] = s.acc;
  return j;
}

std::string format_trace_text(const Trace& t) {
  std::string out = "Q: " + t.question + "\n";
  char buf[64];
  for (size_t s = 0; s < t.steps.size(); ++s) {
    const TraceStep& st = t.steps[s];
    out += "\nstep " + std::to_string(s + 1) + "\n";
    out += st.query.empty() ? "  query:     (no retrieval)\n" : "  query:     " + st.query + "\n";
    if (!st.retrieved.empty()) {
      out += "  passages:  ";
      for (size_t i = 0; i < st.retrieved.size(); ++i) {
        std::snprintf(buf, sizeof buf, " (%.2f)", st.retrieved[i].score);
        out += (i ? "; " : "") + st.retrieved[i].passage.title + buf;
      }
      out += "\n";
    }
    if (st.fitted())
      out += "  fitted:    the prompt left out its " + std::to_string(st.fit_dropped) + " earliest passage" +
             (st.fit_dropped == 1 ? "" : "s") +
             (st.fit_words > 0 ? " and kept " + std::to_string(st.fit_words) + " words of the next" : std::string()) +
             " (the model's context)\n";
    out += "  sentence:  " + (st.sentence.empty() ? std::string("(empty)") : st.sentence) + "\n";
  }
  out += "\n";
  if (t.answered) out += "answer: " + t.answer + "\n";
  else out += "answer: (none after " + std::to_string(t.steps.size()) + " steps)\n";
  if (!t.answers.empty()) {
    AnswerScores sc = score_trace(t);
    std::snprintf(buf, sizeof buf, " (EM %.0f, F1 %.2f)", sc.em, sc.f1);
    out += "gold:   " + t.answers[0] + buf + "\n";
  }
  return out;
}

json prompt_fit_counts(const std::vector<Trace>& traces) {
  size_t prompts = 0, questions = 0, full = 0;
  for (const auto& t : traces) {
    size_t fitted = 0;
    for (const auto& s : t.steps) fitted += s.fitted();
    prompts += fitted;
    questions += fitted > 0;
    full += t.end == TraceEnd::kContextFull;
  }
  return json{{"prompts", prompts}, {"questions", questions}, {"context_full", full}};
}

EvalResult eval_run(const std::vector<Question>& questions, Retriever* retriever, StepWriter& writer,
                    const EvalConfig& config) {
  if (!config.out_dir.empty()) make_dirs(config.out_dir);
  EvalResult result;
  Progress progress(std::string("eval ") + writer.name() + " " + rag_mode_name(config.rag.loop.mode), questions.size(),
                    "questions");
  size_t correct = 0;
  auto on_done = [&](const Trace& t) {
    if (t.correct) ++correct;
    if (config.on_question) config.on_question();
    if (!config.show_progress) return;
    char extra[64];
    std::snprintf(extra, sizeof extra, "EM so far %.1f%%", 100.0 * static_cast<double>(correct) /
                                                              static_cast<double>(progress.done() + 1));
    progress.add(1, extra);
  };
  result.traces = rag_run(questions, retriever, writer, config.rag, on_done);
  double seconds = progress.elapsed_seconds();
  if (config.show_progress) progress.finish();

  result.metrics = eval_metrics(result.traces, questions, config.report);
  json& m = result.metrics;
  m["model"] = config.model.empty() ? writer.name() : config.model;
  m["mode"] = rag_mode_name(config.rag.loop.mode);
  m["data"] = config.data;
  m["settings"] = to_json(config.rag.loop);
  m["settings"]["max_sentence_tokens"] = config.rag.max_sentence_tokens;
  m["settings"]["batch_size"] = config.rag.batch_size;
  m["fitted"] = prompt_fit_counts(result.traces);
  if (m["fitted"]["prompts"].get<size_t>() > 0 || m["fitted"]["context_full"].get<size_t>() > 0)
    std::fprintf(stderr, "eval: %zu prompts of %zu questions fitted to the model's context (earliest passages left "
                 "out); %zu questions ended with no room left\n", m["fitted"]["prompts"].get<size_t>(),
                 m["fitted"]["questions"].get<size_t>(), m["fitted"]["context_full"].get<size_t>());
  m["seconds"] = seconds;
  m["questions_per_second"] = seconds > 0 ? static_cast<double>(questions.size()) / seconds : 0.0;

  if (!config.out_dir.empty()) {
    std::string lines;
    for (const auto& t : result.traces) {
      lines += prediction_json(t).dump();
      lines += '\n';
    }
    write_file_atomic(config.out_dir + "/predictions.jsonl", lines);
    write_json_atomic(config.out_dir + "/metrics.json", m);
  }
  if (config.print_table) {
    std::printf("%s %s on %zu questions (%s)\n", m["model"].get<std::string>().c_str(), rag_mode_name(config.rag.loop.mode),
                questions.size(), config.data.c_str());
    std::fputs(format_metrics_table(m).c_str(), stdout);
    std::fflush(stdout);
  }
  return result;
}

void eval_systems(const std::vector<Question>& questions, Retriever* retriever, const std::vector<EvalSystem>& systems,
                  const std::vector<RagMode>& modes, const EvalConfig& base, size_t workers,
                  const EvalHooks& hooks) {
  std::atomic<size_t> questions_done{0};
  Progress progress("evaluate", questions.size() * modes.size() * systems.size(), "question runs");
  size_t shown = 0;
  run_side_by_side(
      systems.size(), workers,
      [&](size_t si) {
        const EvalSystem& sys = systems[si];
        for (RagMode mode : modes) {
          if (hooks.reuse && hooks.reuse(sys.name, mode)) {
            questions_done += questions.size();
            continue;
          }
          EvalConfig c = base;
          c.rag.loop.mode = mode;
          c.out_dir = base.out_dir + "/" + sys.name + "/" + rag_mode_name(mode);
          c.model = sys.model;
          c.print_table = false;
          c.show_progress = false;  // one line for all side-by-side evaluations instead
          c.on_question = [&] { ++questions_done; };
          std::unique_ptr<StepWriter> writer = sys.make_writer(c.rag);
          EvalResult r = eval_run(questions, retriever, *writer, c);
          if (hooks.finished) hooks.finished(sys.name, mode, r);
        }
      },
      [&] {
        size_t now = questions_done;
        if (now > shown) progress.add(now - shown);
        shown = now;
      },
      0.1);
  progress.finish();
}

}  // namespace steper
