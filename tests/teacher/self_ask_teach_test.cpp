// The gold Self-Ask teacher on a generated world against the gold IRCoT teacher on the same world and
// index: its traces pass the evidence filter at least as often, every follow-up asks a world relation, and
// each step retrieved with its follow-up. Plus the Self-Ask few-shot demonstrations.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/io.h"
#include "data/world.h"
#include "rag/framework.h"
#include "rag/gold_follow_up.h"
#include "retrieval/retriever.h"
#include "teacher/fewshot.h"
#include "teacher/teach.h"

namespace steper {
namespace {

TEST(SelfAskTeach, GoldTracesPassTheEvidenceFilterAsOftenAsIrcots) {
  WorldOptions wo;
  wo.seed = 11;
  wo.n_train = 400;
  wo.n_dev = 0;
  wo.n_test = 0;
  World world = world_generate(wo);
  const std::string dir = std::string(STEPER_BINARY_DIR) + "/tests/teacher/self_ask_world";
  std::filesystem::remove_all(dir);
  make_dirs(dir);
  IndexOptions io;
  io.show_progress = false;
  io.threads = 1;
  bm25_build_index(world.corpus, dir + "/index", io);
  std::unique_ptr<Retriever> retriever = bm25_open_index(dir + "/index", 1);

  std::map<std::string, double> kept_share;
  for (const std::string framework : {"ircot", "self-ask"}) {
    TeachConfig c;
    c.teacher = "gold";
    c.rag.loop.k = 4;  // the demo's loop
    c.rag.loop.max_steps = 6;
    c.rag.loop.max_passages = 10;
    c.rag.loop.passage_words = 60;
    set_framework(c.rag.loop, framework);
    c.out = dir + "/" + framework + ".jsonl";
    c.show_progress = false;
    TeachResources res;
    res.questions = &world.train;
    res.retriever = retriever.get();
    TeachSummary s = teach_run_with(c, res);
    ASSERT_EQ(s.finished, world.train.size());
    kept_share[framework] = 100.0 * static_cast<double>(s.kept) / static_cast<double>(s.finished);
  }
  std::fprintf(stderr, "kept: IRCoT %.1f%%, Self-Ask %.1f%%\n", kept_share["ircot"], kept_share["self-ask"]);
  EXPECT_GT(kept_share["ircot"], 30.0);
  // Not below IRCoT's by more than a few points. On this world it is well above (about 87% against 65%):
  // a follow-up names the entity whose paragraph the hop needs, while IRCoT's step s retrieves with
  // sentence s-1, where that entity is one name among others; Self-Ask's losses are 4-hop questions whose
  // last paragraph comes after the 10-passage cap.
  EXPECT_GE(kept_share["self-ask"], kept_share["ircot"] - 3.0);

  // every kept Self-Ask trace: one follow-up per supporting fact, each asking the hop's world relation,
  // each step retrieving with its follow-up, then the final answer
  std::map<std::string, const Question*> by_id;
  for (const auto& q : world.train) by_id[q.id] = &q;
  size_t kept = 0;
  for (const auto& rec : read_teach_output(dir + "/self-ask.jsonl").records) {
    const Question& q = *by_id.at(rec.trace.id);
    for (const auto& f : q.supporting_facts) {
      std::string sentence;
      for (const auto& c : q.context)
        if (c.title == f.title) sentence = c.sentences.at(static_cast<size_t>(f.sent_id));
      EXPECT_NE(world_relation_of(sentence, f.title), "") << q.id << ": " << sentence;
    }
    if (!rec.kept) continue;
    ++kept;
    ASSERT_EQ(rec.trace.steps.size(), q.supporting_facts.size() + 1) << q.id;
    for (size_t s = 0; s + 1 < rec.trace.steps.size(); ++s) {
      const TraceStep& st = rec.trace.steps[s];
      const std::string follow_up = self_ask_follow_up_of(st.sentence);
      EXPECT_EQ(follow_up, gold_follow_up(q, s, 1));
      EXPECT_EQ(st.query, step_query(rec.trace.loop, q.question, {}, follow_up));
    }
    EXPECT_EQ(rec.trace.steps.back().sentence, "So the final answer is: " + q.answers[0]);
    EXPECT_TRUE(rec.trace.steps.back().retrieved.empty());
  }
  EXPECT_GT(kept, 0u);
  std::filesystem::remove_all(dir);
}

TEST(SelfAskFewShot, EveryTypeRendersPairsThenTheFinalAnswer) {
  LoopOptions l;
  set_framework(l, "self-ask");
  for (const auto& type : fewshot_types()) {
    for (const auto& d : fewshot_demos(type))
      ASSERT_EQ(d.follow_ups.size() + 1, d.sentences.size()) << type << ": " << d.question;
    const FewShotDemo d0 = fewshot_demos(type)[0];
    const std::string prefix = fewshot_prefix(type, l);
    const std::string expected = "Question: " + d0.question + "\nAre follow up questions needed here: Yes.\nFollow up: " +
                                 d0.follow_ups[0] + "\nIntermediate answer: " + d0.sentences[0] + "\nFollow up: " +
                                 d0.follow_ups[1] + "\nIntermediate answer: " + d0.sentences[1] + "\n";
    EXPECT_NE(prefix.find(expected), std::string::npos) << type;
    EXPECT_EQ(prefix.find("So the answer is:"), std::string::npos) << type;  // IRCoT's marker is not Self-Ask's
    const FewShotDemo last = fewshot_demos(type).back();
    const std::string answer = last.sentences.back().substr(std::string("So the answer is: ").size());
    EXPECT_EQ(prefix.substr(prefix.size() - answer.size() - 26), "So the final answer is: " + answer.substr(0, answer.size() - 1) + "\n\n\n")
        << type;
  }
}

}  // namespace
}  // namespace steper
