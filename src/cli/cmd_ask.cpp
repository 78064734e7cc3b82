// steper ask: one question through the multi-step loop, printed step by step for a person.
#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/openai_flags.h"
#include "core/error.h"
#include "core/trace_json.h"
#include "data/formats.h"
#include "model/model.h"
#include "rag/evaluate.h"
#include "teacher/openai_loop.h"
#include "retrieval/retriever.h"

namespace steper {
namespace {

CommandRegistrar reg({"ask", "Answer one question step by step (retrieval, reasoning sentence, answer)", [](CLI::App* sub) {
  auto model = std::make_shared<std::string>();
  auto index = std::make_shared<std::string>();
  auto question = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto device = std::make_shared<std::string>();
  auto adapter = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto strict = std::make_shared<bool>(false);
  auto model_name = std::make_shared<std::string>();
  sub->add_option("--model", *model,
                  "model folder, http(s)://HOST:PORT[/v1] (a model behind an OpenAI-compatible server, with "
                  "--model-name), or \"gold\" / \"oracle\" as in eval (need --data and --id: a question with "
                  "supporting facts)")
      ->required();
  sub->add_option("--index", *index, "BM25 index folder (steper index); not needed with --mode none");
  sub->add_option("question", *question, "the question");
  sub->add_option("--data", *data, "take the question from this data file (with --id)");
  sub->add_option("--id", *id, "id of the question in --data");
  auto loop = add_loop_flags(sub, LoopUse::kRun);
  sub->add_option("--model-name", *model_name, "with --model URL: the model name sent to the server");
  auto served = add_openai_flags(sub);
  add_strict_flag(sub, *strict);
  add_device_flag(sub, *device);
  add_adapter_flag(sub, *adapter);
  sub->add_flag("--json", *json, "print the trace as one JSON object instead");
  return std::function<int()>([=] {
    RagOptions o = loop->resolve();
    o.batch_size = 1;
    if (o.loop.mode != RagMode::kNone && index->empty())
      throw Error(std::string("--index is required with --mode ") + rag_mode_name(o.loop.mode));

    Question q;
    if (!data->empty() || !id->empty()) {
      if (data->empty() || id->empty()) throw Error("--data and --id go together");
      if (!question->empty()) throw Error("give either QUESTION or --data/--id, not both");
      bool found = false;
      for (auto& candidate : read_questions(*data, *strict))
        if (candidate.id == *id) {
          q = std::move(candidate);
          found = true;
          break;
        }
      if (!found) throw Error(*data + ": no question with id \"" + *id + "\"");
    } else {
      if (question->empty()) throw Error("QUESTION is missing (or give --data FILE --id ID)");
      q.id = "ask";
      q.question = *question;
    }
    const bool gold = *model == "gold" || *model == "oracle";
    if (gold && q.supporting_facts.empty())
      throw Error("--model " + *model + " writes a question's supporting facts, and a typed question has none: "
                  "use --data FILE --id ID with a question that has them, or a model folder");

    std::unique_ptr<Retriever> retriever;
    if (o.loop.mode != RagMode::kNone) retriever = bm25_open_index(*index);
    std::vector<Trace> traces;
    if (gold) {
      GoldReader writer(*model == "oracle" ? GoldPolicy::kOracle : GoldPolicy::kRetrieved);
      traces = rag_run({q}, retriever.get(), writer, o);
    } else if (is_model_url(*model)) {
      if (model_name->empty()) throw Error("--model " + *model + " needs --model-name NAME (the server's model)");
      OpenAIOptions so = served->resolve();
      so.base_url = *model;
      so.model = *model_name;
      ServedModel m = served_model(so, o, served->fewshot, {q});
      traces = rag_run({q}, retriever.get(), *m.writer, o);
      if (traces[0].end == TraceEnd::kRequestFailed) throw Error(*model + ": " + traces[0].end_detail);
    } else {
      std::unique_ptr<TextGenerator> lm = LanguageModel::load(*model, *device, *adapter);
      LmStepWriter writer(*lm, o);
      traces = rag_run({q}, retriever.get(), writer, o);
    }
    if (*json) std::printf("%s\n", prediction_json(traces[0]).dump().c_str());
    else std::fputs(format_trace_text(traces[0]).c_str(), stdout);
    return 0;
  });
}});

}  // namespace
}  // namespace steper
