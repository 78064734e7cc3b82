#include "serve/ask.h"

#include "core/error.h"
#include "core/loop_fields.h"
#include "core/io.h"
#include "core/trace_json.h"
#include "rag/framework.h"

namespace steper {

using nlohmann::json;

namespace {

const char* const kWhere = "request";

// Passes each step the loop has recorded to on_step: a step is recorded after the writer returns, so the
// next write (or the end of the run) is the first moment it can be seen.
class StepReporter : public StepWriter {
 public:
  StepReporter(StepWriter& inner, const AskStepSink& on_step)
      : inner_(inner), on_step_(on_step) {}
  std::vector<Written> write(const std::vector<const RagState*>& states) override {
    for (const RagState* s : states) report(s->trace);
    return inner_.write(states);
  }
  std::string name() const override { return inner_.name(); }
  void finished(const RagState& state) override { inner_.finished(state); }
  void report(const Trace& t) {
    if (!on_step_ || t.steps.size() <= sent_) return;
    json steps = to_json(t)["steps"];
    for (; sent_ < steps.size(); ++sent_)
      if (!on_step_(sent_, steps[sent_])) throw AskAbandoned{};
  }

 private:
  StepWriter& inner_;
  const AskStepSink& on_step_;
  size_t sent_ = 0;
};

}  // namespace

AskCall parse_ask_call(const json& body, const RagOptions& defaults, bool has_index) {
  if (!body.is_object()) throw Error(std::string(kWhere) + ": the body must be a JSON object, got " + json_brief(body));
  AskCall call;
  call.question.id = json_text_or(body, "id", kWhere, "ask");
  call.question.question = json_text(body, "question", kWhere);
  if (call.question.question.find_first_not_of(" \t\r\n") == std::string::npos)
    throw Error(std::string(kWhere) + ": field \"question\" is empty");
  call.rag = defaults;
  call.rag.batch_size = 1;
  LoopOptions& lo = call.rag.loop;
  std::string mode = json_text_or(body, "mode", kWhere, rag_mode_name(lo.mode));
  if (mode != "multi" && mode != "single" && mode != "none")
    throw Error(std::string(kWhere) + ": field \"mode\" must be multi, single or none, got \"" + mode + "\"");
  lo.mode = rag_mode_from_string(mode);
  if (json_find(body, "framework")) {
    const std::string framework = json_text(body, "framework", kWhere);
    if (framework != "ircot" && framework != "self-ask")
      throw Error(std::string(kWhere) + ": field \"framework\" must be ircot or self-ask, got \"" + framework + "\"");
    set_framework(lo, framework);
  }
  for (const auto& f : loop_int_options())
    lo.*f.member = static_cast<int>(json_int_or(body, f.field, kWhere, lo.*f.member, f.lo, f.hi));
  call.stream = json_bool_or(body, "stream", kWhere, false);
  if (lo.mode != RagMode::kNone && !has_index)
    throw Error(std::string(kWhere) + ": field \"mode\" is \"" + mode +
                "\" but this server has no index (start it with --index, or ask with mode \"none\")");
  return call;
}

Trace run_ask(const AskCall& call, Retriever* retriever, TextGenerator& generator, const AskStepSink& on_step) {
  LmStepWriter writer(generator, call.rag);
  StepReporter reporter(writer, on_step);
  std::vector<Trace> traces = rag_run({call.question}, retriever, reporter, call.rag);
  reporter.report(traces.at(0));
  return traces[0];
}

}  // namespace steper
