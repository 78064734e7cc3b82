// The gold writer through the whole loop on a generated world with a real BM25 index.
#include <gtest/gtest.h>

#include "core/io.h"
#include "data/formats.h"
#include "data/world.h"
#include "eval/metrics.h"
#include "rag/evaluate.h"

namespace steper {
namespace {

TEST(RagWorld, GoldWriterOnGeneratedWorld) {
  WorldOptions wo;
  wo.seed = 3;
  wo.n_train = 20;
  wo.n_dev = 0;
  wo.n_test = 40;
  World world = world_generate(wo);
  ASSERT_FALSE(world.test.empty());
  const std::string dir = std::string(STEPER_BINARY_DIR) + "/tests/rag/world_gold";
  make_dirs(dir);
  IndexOptions io;
  io.show_progress = false;
  io.threads = 1;
  bm25_build_index(world.corpus, dir + "/index", io);
  std::unique_ptr<Retriever> retriever = bm25_open_index(dir + "/index", 1);

  // the questions as written to disk and read back, as `steper eval` sees them
  world_write(world, dir + "/world");
  std::vector<Question> questions = read_questions(dir + "/world/test.json");
  ASSERT_EQ(questions.size(), world.test.size());

  GoldReader writer(GoldPolicy::kOracle);
  EvalConfig c;
  c.rag.loop.k = 4;
  c.out_dir = dir + "/eval";
  c.show_progress = false;
  c.print_table = false;
  c.report.bootstrap_samples = 100;
  EvalResult res = eval_run(questions, retriever.get(), writer, c);
  ASSERT_EQ(res.traces.size(), questions.size());
  for (size_t i = 0; i < questions.size(); ++i) {
    const Trace& t = res.traces[i];
    const Question& q = questions[i];
    ASSERT_FALSE(q.supporting_facts.empty());
    // one sentence per supporting fact, then the answer sentence
    ASSERT_EQ(t.steps.size(), q.supporting_facts.size() + 1) << q.id;
    for (size_t s = 0; s < q.supporting_facts.size(); ++s) {
      const SupportingFact& f = q.supporting_facts[s];
      std::string expected;
      for (const auto& p : q.context)
        if (p.title == f.title) expected = p.sentences.at(static_cast<size_t>(f.sent_id));
      EXPECT_NE(expected.find(t.steps[s].sentence), std::string::npos) << q.id;
    }
    EXPECT_EQ(t.steps.back().sentence, "So the answer is: " + q.answers[0] + ".");
    EXPECT_TRUE(t.answered);
    EXPECT_TRUE(t.correct);
    // k caps what a step retrieves (fewer come back when fewer passages share a term with the query)
    EXPECT_GE(t.steps[0].retrieved.size(), 1u) << q.id;
    EXPECT_LE(t.steps[0].retrieved.size(), 4u) << q.id;
  }
  EXPECT_DOUBLE_EQ(res.metrics["em"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(res.metrics["unanswered"].get<double>(), 0.0);
  // BM25 with the question finds some supporting passages at step 1, and more with later steps
  const auto& by_step = res.metrics["recall_by_step"];
  ASSERT_GE(by_step.size(), 2u);
  EXPECT_GT(by_step[0].get<double>(), 20.0);
  EXPECT_GE(by_step[1].get<double>(), by_step[0].get<double>());
  EXPECT_GE(res.metrics["recall"].get<double>(), by_step[1].get<double>());
  EXPECT_TRUE(file_exists(dir + "/eval/predictions.jsonl"));
  EXPECT_TRUE(file_exists(dir + "/eval/metrics.json"));
  EXPECT_FALSE(format_trace_text(res.traces[0]).empty());

  // The gold reader reads only what the prompt shows: with retrieval at every step it answers a question
  // exactly when each step's supporting paragraph was shown in time; with one retrieval it cannot follow
  // the chain, so it scores below the multi-step loop on these 2-4 hop questions.
  GoldReader gold(GoldPolicy::kRetrieved);
  c.out_dir.clear();
  EvalResult multi = eval_run(questions, retriever.get(), gold, c);
  size_t answered = 0;
  for (size_t i = 0; i < questions.size(); ++i) {
    const Trace& t = multi.traces[i];
    if (t.end == TraceEnd::kAnswered) {
      ++answered;
      EXPECT_TRUE(evidence_shown_by_step(t, questions[i])) << t.id;
      EXPECT_TRUE(t.correct) << t.id;
    } else {
      EXPECT_EQ(t.end, TraceEnd::kEvidenceMissing) << t.id;
      EXPECT_FALSE(t.answered);
      EXPECT_FALSE(evidence_shown_by_step(t, questions[i])) << t.id;
    }
  }
  EXPECT_GT(answered, 0u);
  c.rag.loop.mode = RagMode::kSingle;
  EvalResult single = eval_run(questions, retriever.get(), gold, c);
  EXPECT_LT(single.metrics["em"].get<double>(), multi.metrics["em"].get<double>());
  EXPECT_LT(multi.metrics["em"].get<double>(), 100.0);  // BM25 misses some bridge paragraphs
}

}  // namespace
}  // namespace steper
