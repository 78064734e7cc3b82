// steper eval: a model folder (or the gold writer) through the multi-step, single-step or no-retrieval loop
// on a question set; predictions.jsonl, metrics.json and a table.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "core/error.h"
#include "data/formats.h"
#include "model/model.h"
#include "rag/evaluate.h"
#include "retrieval/retriever.h"

namespace steper {
namespace {

CommandRegistrar reg({"eval", "Evaluate a model folder (or gold) with multi-step, single-step or no retrieval", [](CLI::App* sub) {
  auto model = std::make_shared<std::string>();
  auto index = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto mode = std::make_shared<std::string>("multi");
  auto out = std::make_shared<std::string>();
  auto device = std::make_shared<std::string>("cpu");
  auto limit = std::make_shared<int>(0);
  auto cfg = std::make_shared<EvalConfig>();
  sub->add_option("--model", *model, "model folder, or \"gold\" (writes the supporting facts, then the gold answer)")
      ->required();
  sub->add_option("--index", *index, "BM25 index folder (steper index); not needed with --mode none");
  sub->add_option("--data", *data, "questions (HotpotQA, 2WikiMultiHopQA, MuSiQue, IRCoT or datasets export)")
      ->required();
  sub->add_option("--mode", *mode, "multi (retrieve every step), single (retrieve once) or none")
      ->capture_default_str();
  sub->add_option("-k", cfg->rag.k, "passages per retrieval")->capture_default_str();
  sub->add_option("--max-steps", cfg->rag.max_steps, "sentences at most")->capture_default_str();
  sub->add_option("--max-passages", cfg->rag.max_passages, "accumulated passages at most")->capture_default_str();
  sub->add_option("--passage-words", cfg->rag.prompt.passage_words, "passages cut to this many words")
      ->capture_default_str();
  sub->add_option("--max-sentence-tokens", cfg->rag.max_sentence_tokens, "tokens per generated sentence at most")
      ->capture_default_str();
  sub->add_option("--limit", *limit, "the first N questions only (0 = all)")->capture_default_str();
  sub->add_option("--batch", cfg->rag.batch_size, "questions in flight together")->capture_default_str();
  sub->add_option("--device", *device, "cpu, cuda or cuda:N")->capture_default_str();
  sub->add_option("--bootstrap", cfg->report.bootstrap_samples, "bootstrap resamples for the 95% intervals")
      ->capture_default_str();
  sub->add_option("--seed", cfg->report.bootstrap_seed, "bootstrap seed")->capture_default_str();
  sub->add_option("--out", *out, "output folder: predictions.jsonl, metrics.json")->required();
  return std::function<int()>([=] {
    EvalConfig c = *cfg;
    c.rag.mode = rag_mode_from_string(*mode);
    if (c.rag.k < 1) throw Error("-k must be at least 1, got " + std::to_string(c.rag.k));
    if (c.rag.max_steps < 1) throw Error("--max-steps must be at least 1, got " + std::to_string(c.rag.max_steps));
    if (c.rag.max_passages < 1)
      throw Error("--max-passages must be at least 1, got " + std::to_string(c.rag.max_passages));
    if (c.rag.batch_size < 1) throw Error("--batch must be at least 1, got " + std::to_string(c.rag.batch_size));
    if (*limit < 0) throw Error("--limit must be 0 (all) or more, got " + std::to_string(*limit));
    if (c.rag.mode != RagMode::kNone && index->empty()) throw Error("--index is required with --mode " + *mode);
    c.out_dir = *out;
    c.model = *model;
    c.data = *data;

    std::vector<Question> questions = read_questions(*data);
    if (*limit > 0 && questions.size() > static_cast<size_t>(*limit)) questions.resize(static_cast<size_t>(*limit));
    if (questions.empty()) throw Error(*data + ": no questions");
    std::unique_ptr<Retriever> retriever;
    if (c.rag.mode != RagMode::kNone) retriever = bm25_open_index(*index);

    if (*model == "gold") {
      for (const auto& q : questions)
        if (q.supporting_facts.empty())
          throw Error(*data + ": question " + q.id + " has no supporting facts; --model gold needs them");
      GoldStepWriter writer;
      eval_run(questions, retriever.get(), writer, c);
    } else {
      std::unique_ptr<TextGenerator> lm = LanguageModel::load(*model, *device);
      LmStepWriter writer(*lm, c.rag);
      eval_run(questions, retriever.get(), writer, c);
    }
    std::fprintf(stderr, "wrote %s/predictions.jsonl and %s/metrics.json\n", out->c_str(), out->c_str());
    return 0;
  });
}});

}  // namespace
}  // namespace steper
