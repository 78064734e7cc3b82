// steper eval: a model folder, a model behind an OpenAI-compatible server (--model URL), the gold reader or the
// oracle through the multi-step, single-step or no-retrieval loop on a question set; predictions.jsonl,
// metrics.json and a table.
#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/openai_flags.h"
#include "core/error.h"
#include "data/formats.h"
#include "model/model.h"
#include "rag/evaluate.h"
#include "teacher/openai_loop.h"
#include "retrieval/retriever.h"

namespace steper {
namespace {

CommandRegistrar reg({"eval", "Evaluate a model (folder or server) or gold with multi-step, single-step or no retrieval",
                      [](CLI::App* sub) {
  auto model = std::make_shared<std::string>();
  auto index = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto device = std::make_shared<std::string>();
  auto adapter = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(0);
  auto strict = std::make_shared<bool>(false);
  auto model_name = std::make_shared<std::string>();
  auto cfg = std::make_shared<EvalConfig>();
  sub->add_option("--model", *model,
                  "model folder; http(s)://HOST:PORT[/v1]: a model behind an OpenAI-compatible server (vLLM, "
                  "steper serve, ...; with --model-name); \"gold\": the gold reader (writes each supporting sentence once retrieval has "
                  "shown its paragraph, then the gold answer); \"oracle\": copies the supporting sentences from "
                  "the question's context whatever retrieval brought (an upper bound, not a reader)")
      ->required();
  sub->add_option("--index", *index, "BM25 index folder (steper index); not needed with --mode none");
  sub->add_option("--data", *data, "questions (HotpotQA, 2WikiMultiHopQA, MuSiQue, IRCoT or datasets export)")
      ->required();
  auto loop = add_loop_flags(sub, LoopUse::kRun);
  sub->add_option("--model-name", *model_name, "with --model URL: the model name sent to the server");
  auto served = add_openai_flags(sub);
  add_strict_flag(sub, *strict);
  sub->add_option("--limit", *limit, "the first N questions only (0 = all)")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_device_flag(sub, *device);
  add_adapter_flag(sub, *adapter);
  add_bootstrap_flags(sub, cfg->report.bootstrap_samples, cfg->report.bootstrap_seed);
  sub->add_option("--out", *out, "output folder: predictions.jsonl, metrics.json")->required();
  return std::function<int()>([=] {
    EvalConfig c = *cfg;
    c.rag = loop->resolve();
    if (c.rag.loop.mode != RagMode::kNone && index->empty())
      throw Error(std::string("--index is required with --mode ") + rag_mode_name(c.rag.loop.mode));
    c.out_dir = *out;
    c.model = *model;
    c.data = *data;

    std::vector<Question> questions = read_questions(*data, *strict);
    if (*limit > 0 && questions.size() > static_cast<size_t>(*limit)) questions.resize(static_cast<size_t>(*limit));
    if (questions.empty()) throw Error(*data + ": no questions");
    std::unique_ptr<Retriever> retriever;
    if (c.rag.loop.mode != RagMode::kNone) retriever = bm25_open_index(*index);

    if (*model == "gold" || *model == "oracle") {
      for (const auto& q : questions)
        if (q.supporting_facts.empty())
          throw Error(*data + ": question " + q.id + " has no supporting facts; --model " + *model + " needs them");
      GoldReader writer(*model == "oracle" ? GoldPolicy::kOracle : GoldPolicy::kRetrieved);
      eval_run(questions, retriever.get(), writer, c);
    } else if (is_model_url(*model)) {
      if (model_name->empty()) throw Error("--model " + *model + " needs --model-name NAME (the server's model)");
      OpenAIOptions o = served->resolve();
      o.base_url = *model;
      o.model = *model_name;
      ServedModel m = served_model(o, c.rag, served->fewshot, questions);
      eval_run(questions, retriever.get(), *m.writer, c);
    } else {
      std::unique_ptr<TextGenerator> lm = LanguageModel::load(*model, *device, *adapter);
      LmStepWriter writer(*lm, c.rag);
      eval_run(questions, retriever.get(), writer, c);
    }
    std::fprintf(stderr, "wrote %s/predictions.jsonl and %s/metrics.json\n", out->c_str(), out->c_str());
    return 0;
  });
}});

}  // namespace
}  // namespace steper
