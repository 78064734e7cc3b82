// Self-Ask (rag/framework.h): its prompt and rules by hand-written expectations, the loop retrieving with
// each follow-up question, its stop rules, and the gold reader's follow-ups.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.h"
#include "rag/framework.h"
#include "rag/gold_follow_up.h"
#include "rag/loop.h"

namespace steper {
namespace {

LoopOptions self_ask_loop() {
  LoopOptions l;
  set_framework(l, "self-ask");
  return l;
}

// Returns the passages listed for a query and records every query.
class TableRetriever : public Retriever {
 public:
  std::map<std::string, std::vector<Passage>> table;
  std::vector<std::string> queries;
  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& qs, int k) override {
    std::vector<std::vector<ScoredPassage>> out;
    for (const auto& q : qs) {
      queries.push_back(q);
      std::vector<ScoredPassage> r;
      for (const auto& p : table[q])
        if (static_cast<int>(r.size()) < k) r.push_back({p, 1.0});
      out.push_back(r);
    }
    return out;
  }
  size_t size() const override { return 0; }
};

// Answers the n-th request with the n-th scripted text (the last one again once they run out) and
// records every prompt.
class QueueGenerator : public TextGenerator {
 public:
  std::vector<std::string> texts, prompts;
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override {
    std::vector<GenerateResult> out;
    for (const auto& r : requests) {
      out.push_back({texts.at(std::min(prompts.size(), texts.size() - 1)), 0, 0});
      prompts.push_back(r.prompt);
    }
    return out;
  }
  std::string name() const override { return "queue"; }
};

const char* const kHeader = "Question: Which show did the musician whose career Jim Halsey guided host?\n"
                            "Are follow up questions needed here: Yes.\n";

Question halsey_question() {
  Question q;
  q.id = "q1";
  q.question = "Which show did the musician whose career Jim Halsey guided host?";
  q.answers = {"Hee Haw"};
  return q;
}

TEST(SelfAskFramework, PromptAndStepTextsByHand) {
  const LoopOptions l = self_ask_loop();
  EXPECT_EQ(l.framework, "self-ask");
  EXPECT_EQ(l.prompt_format, "self-ask-v1");
  const std::vector<Passage> shown = {{"a", "Roy Clark", "Roy Clark was guided by Jim Halsey."}};
  const std::string q = "Which show did the musician whose career Jim Halsey guided host?";
  EXPECT_EQ(step_prompt(l, q, shown, {}),
            std::string("Wikipedia Title: Roy Clark\nRoy Clark was guided by Jim Halsey.\n\n") + kHeader);
  const std::vector<std::string> steps = {"Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: Roy Clark."};
  EXPECT_EQ(step_prompt(l, q, {}, steps, "Which show did Roy Clark host?"),
            std::string(kHeader) +
                "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: Roy Clark.\n"
                "Follow up: Which show did Roy Clark host?\nIntermediate answer:");
  EXPECT_EQ(steps_text(l, {steps[0], "So the final answer is: Hee Haw"}),
            "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: Roy Clark.\nSo the final answer is: Hee Haw\n");
  EXPECT_EQ(self_ask_pair("Whose career did Jim Halsey guide?", "Roy Clark."), steps[0]);
  EXPECT_EQ(self_ask_follow_up_of(steps[0]), "Whose career did Jim Halsey guide?");
  EXPECT_EQ(self_ask_follow_up_of("So the final answer is: Hee Haw"), "");
  EXPECT_EQ(answer_step(l, "Hee Haw"), "So the final answer is: Hee Haw");
  EXPECT_EQ(answer_of_step(l, "So the final answer is: Hee Haw."), "Hee Haw");
  EXPECT_EQ(answer_of_step(l, "So the final answer is:"), "");  // a student stopping at the marker
  EXPECT_EQ(answer_of_step(l, "So the final answer is:Hee Haw."), "Hee Haw");
  EXPECT_TRUE(is_answer_step(l, "So the final answer is: Hee Haw"));
  EXPECT_FALSE(is_answer_step(l, steps[0]));
  EXPECT_FALSE(is_answer_step(l, "So the answer is: Hee Haw."));  // IRCoT's marker is not Self-Ask's
  // only the first line of a generation counts
  EXPECT_EQ(written_text(l, " Roy Clark. He sings.\nFollow up: x"), "Roy Clark. He sings.");

  // IRCoT keeps its format
  LoopOptions ircot;
  EXPECT_EQ(step_prompt(ircot, q, shown, {"Jim Halsey guided Roy Clark."}),
            "Wikipedia Title: Roy Clark\nRoy Clark was guided by Jim Halsey.\n\nQ: " + q + "\nA: Jim Halsey guided Roy Clark.");
  EXPECT_EQ(answer_step(ircot, "Hee Haw"), "So the answer is: Hee Haw.");
}

TEST(SelfAskFramework, FollowUpLinesAndEndRules) {
  EXPECT_EQ(parse_follow_up_line("Follow up: Who is he?").kind, FollowUpLine::kFollowUp);
  EXPECT_EQ(parse_follow_up_line(" Follow up:  Who is he? ").text, "Who is he?");
  EXPECT_EQ(parse_follow_up_line("Follow up:").kind, FollowUpLine::kOther);
  EXPECT_EQ(parse_follow_up_line("So the final answer is: X").kind, FollowUpLine::kFinal);
  EXPECT_EQ(parse_follow_up_line("  ").kind, FollowUpLine::kEmpty);
  EXPECT_EQ(parse_follow_up_line("I think so.").kind, FollowUpLine::kOther);
  LoopOptions l = self_ask_loop();
  l.max_steps = 2;
  const std::vector<std::string> one = {self_ask_pair("Who is he?", "Roy.")};
  EXPECT_EQ(follow_up_end(l, one, "Who is he?"), TraceEnd::kRepeatedFollowUp);
  EXPECT_EQ(follow_up_end(l, one, "Who is Roy?"), TraceEnd::kAnswered);
  EXPECT_EQ(follow_up_end(l, {one[0], self_ask_pair("Who is Roy?", "A singer.")}, "What did he host?"),
            TraceEnd::kMaxSteps);
  // the step's query: the follow-up (multi), the question once (single), nothing (none)
  EXPECT_EQ(step_query(l, "Who is it?", {}, "Who hosted Hee Haw?"), "hosted Hee Haw");
  l.mode = RagMode::kSingle;
  EXPECT_EQ(step_query(l, "Which show did Roy Clark host?", {}, "Who hosted Hee Haw?"), "show did Roy Clark host");
  EXPECT_EQ(step_query(l, "Who is it?", one, "Who hosted Hee Haw?"), "");
  l.mode = RagMode::kNone;
  EXPECT_EQ(step_query(l, "Who is it?", {}, "Who hosted Hee Haw?"), "");
}

TEST(SelfAskFramework, UnknownFrameworkOrFormatIsRefusedNamingTheFlag) {
  LoopOptions l;
  try {
    set_framework(l, "selfask");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--framework"), std::string::npos);
  }
  l.framework = "self-ask";  // with IRCoT's prompt format
  EXPECT_THROW(validate_loop_options(l), Error);
}

TEST(SelfAskLoop, RetrievesWithEachFollowUpAndShowsTheWriterExactPrompts) {
  TableRetriever r;
  const Passage roy{"p1", "Roy Clark", "Roy Clark was guided by Jim Halsey."};
  const Passage hee{"p2", "Hee Haw", "Hee Haw was hosted by Roy Clark."};
  r.table["Whose career did Jim Halsey guide"] = {roy};
  r.table["show did Roy Clark host"] = {hee, roy};
  QueueGenerator g;
  g.texts = {"Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: made up", " Roy Clark.\n",
             "Follow up: Which show did Roy Clark host?", " Hee Haw.", "So the final answer is: Hee Haw."};
  RagOptions o;
  o.loop = self_ask_loop();
  LmStepWriter w(g, o);
  Trace t = rag_run({halsey_question()}, &r, w, o)[0];

  // retrieval used each follow-up question (cleaned), never the question
  EXPECT_EQ(r.queries, (std::vector<std::string>{"Whose career did Jim Halsey guide", "show did Roy Clark host"}));
  const std::string roy_block = "Wikipedia Title: Roy Clark\nRoy Clark was guided by Jim Halsey.\n\n";
  const std::string hee_block = "Wikipedia Title: Hee Haw\nHee Haw was hosted by Roy Clark.\n\n";
  const std::string pair1 = "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: Roy Clark.\n";
  ASSERT_EQ(g.prompts.size(), 5u);
  EXPECT_EQ(g.prompts[0], kHeader);
  EXPECT_EQ(g.prompts[1], roy_block + kHeader + "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer:");
  EXPECT_EQ(g.prompts[2], roy_block + kHeader + pair1);
  EXPECT_EQ(g.prompts[3], roy_block + hee_block + kHeader + pair1 +
                              "Follow up: Which show did Roy Clark host?\nIntermediate answer:");
  EXPECT_EQ(g.prompts[4], roy_block + hee_block + kHeader + pair1 +
                              "Follow up: Which show did Roy Clark host?\nIntermediate answer: Hee Haw.\n");

  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_EQ(t.steps[0].query, "Whose career did Jim Halsey guide");
  EXPECT_EQ(t.steps[0].sentence, "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: Roy Clark.");
  ASSERT_EQ(t.steps[1].shown.size(), 1u);  // Roy Clark was shown already
  EXPECT_EQ(t.steps[1].shown[0].id, "p2");
  EXPECT_EQ(t.steps[2].query, "");
  EXPECT_TRUE(t.steps[2].retrieved.empty());
  EXPECT_EQ(t.steps[2].sentence, "So the final answer is: Hee Haw.");
  EXPECT_TRUE(t.answered);
  EXPECT_EQ(t.answer, "Hee Haw");
  EXPECT_TRUE(t.correct);
  EXPECT_EQ(t.end, TraceEnd::kAnswered);
  EXPECT_EQ(t.loop.framework, "self-ask");
}

TEST(SelfAskLoop, RepeatedFollowUpMaxStepsAndStrayLinesEndTheQuestion) {
  TableRetriever r;
  RagOptions o;
  o.loop = self_ask_loop();
  {
    QueueGenerator g;  // asks the same follow-up again
    g.texts = {"Follow up: Who is Roy Clark?", " A singer.", "Follow up: Who is Roy Clark?"};
    LmStepWriter w(g, o);
    Trace t = rag_run({halsey_question()}, &r, w, o)[0];
    EXPECT_EQ(t.end, TraceEnd::kRepeatedFollowUp);
    EXPECT_EQ(r.queries.size(), 1u);  // the repeated follow-up retrieves nothing
    EXPECT_EQ(t.steps.size(), 1u);
    EXPECT_FALSE(t.answered);
  }
  {
    QueueGenerator g;  // a new follow-up every time: at most max_steps of them
    g.texts = {"Follow up: One?", " 1.", "Follow up: Two?", " 2.", "Follow up: Three?", " 3."};
    o.loop.max_steps = 2;
    r.queries.clear();
    LmStepWriter w(g, o);
    Trace t = rag_run({halsey_question()}, &r, w, o)[0];
    EXPECT_EQ(t.end, TraceEnd::kMaxSteps);
    EXPECT_EQ(t.steps.size(), 2u);
    EXPECT_EQ(r.queries.size(), 2u);
  }
  {
    QueueGenerator g;
    g.texts = {"I am not sure."};
    LmStepWriter w(g, o);
    Trace t = rag_run({halsey_question()}, &r, w, o)[0];
    EXPECT_EQ(t.end, TraceEnd::kNoFollowUp);
    EXPECT_TRUE(t.steps.empty());
  }
}

Question keldor_question() {
  Question q;
  q.id = "k1";
  q.question = "Where was the founder of Keldor Records born?";
  q.answers = {"Dunmore"};
  q.supporting_facts = {{"Keldor Records", 0}, {"Iain Pask", 0}};
  q.context = {{"Keldor Records", {"Keldor Records was founded by Iain Pask."}},
               {"Iain Pask", {"Iain Pask was born in Dunmore."}}};
  return q;
}

TEST(SelfAskGold, RelationsOfTheWorldsWordings) {
  EXPECT_EQ(world_relation_of("Keldor Records was founded by Iain Pask.", "Keldor Records"), "founded_by");
  EXPECT_EQ(world_relation_of("Iain Pask founded Keldor Records.", "Keldor Records"), "founded_by");
  EXPECT_EQ(world_relation_of("Iain Pask was born in Dunmore.", "Iain Pask"), "born_in");
  EXPECT_EQ(world_relation_of("Iain Pask was born in 1951.", "Iain Pask"), "birth_year");
  EXPECT_EQ(world_relation_of("Dunmore has a population of 12,400.", "Dunmore"), "city_population");
  EXPECT_EQ(world_relation_of("Iain Pask was born in Dunmore.", "Dunmore"), "");  // not about Dunmore
  EXPECT_EQ(world_relation_of("Iain Pask likes tea.", "Iain Pask"), "");
}

TEST(SelfAskGold, AsksEachHopsRelationInSeveralWordingsThenAnswersFromWhatIsShown) {
  Question q = keldor_question();
  const std::set<std::string> founder = {"Who founded Keldor Records?", "Who is the founder of Keldor Records?"};
  const std::set<std::string> birthplace = {"Where was Iain Pask born?", "In which city was Iain Pask born?",
                                            "What is the birthplace of Iain Pask?"};
  std::set<std::string> used;
  for (int i = 0; i < 20; ++i) {
    q.id = "k" + std::to_string(i);
    std::string f0 = gold_follow_up(q, 0, 1);
    EXPECT_TRUE(founder.count(f0)) << f0;
    EXPECT_TRUE(birthplace.count(gold_follow_up(q, 1, 1))) << gold_follow_up(q, 1, 1);
    EXPECT_EQ(gold_follow_up(q, 0, 1), f0);  // deterministic
    used.insert(f0);
  }
  EXPECT_EQ(used.size(), 2u);  // both wordings occur
  q.context.clear();
  const std::set<std::string> generic = {"What is known about Iain Pask?", "What do we know about Iain Pask?"};
  EXPECT_TRUE(generic.count(gold_follow_up(q, 1, 1))) << gold_follow_up(q, 1, 1);  // no sentence: about the title

  // through the loop: follow-ups as queries, the facts' sentences as intermediate answers
  q = keldor_question();
  TableRetriever r;
  const Passage keldor{"p1", "Keldor Records", "Keldor Records was founded by Iain Pask."};
  const Passage pask{"p2", "Iain Pask", "Iain Pask was born in Dunmore."};
  for (const auto& f : founder) r.table[step_query(self_ask_loop(), "", {}, f)] = {keldor};
  for (const auto& f : birthplace) r.table[step_query(self_ask_loop(), "", {}, f)] = {pask};
  RagOptions o;
  o.loop = self_ask_loop();
  GoldReader gold;
  Trace t = rag_run({q}, &r, gold, o)[0];
  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_TRUE(founder.count(self_ask_follow_up_of(t.steps[0].sentence)));
  EXPECT_EQ(t.steps[0].sentence.substr(t.steps[0].sentence.find('\n') + 1),
            "Intermediate answer: Keldor Records was founded by Iain Pask.");
  EXPECT_EQ(t.steps[1].sentence.substr(t.steps[1].sentence.find('\n') + 1),
            "Intermediate answer: Iain Pask was born in Dunmore.");
  EXPECT_EQ(t.steps[2].sentence, "So the final answer is: Dunmore");
  EXPECT_TRUE(t.correct);

  // a follow-up whose retrieval misses the fact's paragraph: the gold reader cannot answer it
  r.table.clear();
  for (const auto& f : founder) r.table[step_query(self_ask_loop(), "", {}, f)] = {keldor};
  Trace missing = rag_run({q}, &r, gold, o)[0];
  EXPECT_EQ(missing.end, TraceEnd::kEvidenceMissing);
  EXPECT_EQ(missing.steps.size(), 1u);
}

}  // namespace
}  // namespace steper
