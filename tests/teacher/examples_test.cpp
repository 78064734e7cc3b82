// StepER examples from a hand-made trace, against prompts and targets spelled out by hand.
#include <gtest/gtest.h>

#include "distill/examples.h"

namespace steper {
namespace {

ScoredPassage sp(const std::string& id, const std::string& title, const std::string& text) {
  ScoredPassage p;
  p.passage = {id, title, text};
  p.score = 1.0;
  return p;
}

// The Hee Haw example of the paper, with a duplicate passage at steps 2 and 3.
Trace hee_haw_trace() {
  Trace t;
  t.id = "q1";
  t.question = "Which show was hosted by the musician whose career Jim Halsey guided?";
  t.answers = {"Hee Haw"};
  TraceStep s1;
  s1.query = "show hosted by musician career Jim Halsey guided";
  s1.retrieved = {sp("p1", "Jim Halsey", "Jim Halsey is an American talent manager."),
                  sp("p2", "Roy Acuff", "Roy Acuff was a country singer.")};
  s1.sentence = "Jim Halsey guided the career of Roy Clark.";
  TraceStep s2;
  s2.query = "Jim Halsey guided the career of Roy Clark.";
  s2.retrieved = {sp("p1", "Jim Halsey", "Jim Halsey is an American talent manager."),
                  sp("p3", "Roy Clark", "Roy Clark hosted Hee Haw for decades.")};
  s2.sentence = "Roy Clark hosted Hee Haw.";
  TraceStep s3;
  s3.query = "Roy Clark hosted Hee Haw.";
  s3.retrieved = {sp("p4", "Hee Haw", "Hee Haw is a television variety show."),
                  sp("p3", "Roy Clark", "Roy Clark hosted Hee Haw for decades.")};
  s3.sentence = "So the answer is: Hee Haw.";
  t.steps = {s1, s2, s3};
  t.answer = "Hee Haw";
  t.answered = true;
  t.correct = true;
  return t;
}

const char* kQ = "Q: Which show was hosted by the musician whose career Jim Halsey guided?\nA:";
const char* kP1 = "Wikipedia Title: Jim Halsey\nJim Halsey is an American talent manager.\n\n";
const char* kP2 = "Wikipedia Title: Roy Acuff\nRoy Acuff was a country singer.\n\n";
const char* kP3 = "Wikipedia Title: Roy Clark\nRoy Clark hosted Hee Haw for decades.\n\n";
const char* kP4 = "Wikipedia Title: Hee Haw\nHee Haw is a television variety show.\n\n";

// ---- the three tasks of a 3-step trace

TEST(Examples, ThreeStepTraceGivesInitExpAgg) {
  auto ex = build_step_examples(hee_haw_trace());
  ASSERT_EQ(ex.size(), 3u);

  EXPECT_EQ(ex[0].id, "q1/init/1");
  EXPECT_EQ(ex[0].task, Task::kInit);
  EXPECT_EQ(ex[0].step, 1);
  EXPECT_EQ(ex[0].prompt,
            "Wikipedia Title: Jim Halsey\nJim Halsey is an American talent manager.\n\n"
            "Wikipedia Title: Roy Acuff\nRoy Acuff was a country singer.\n\n"
            "Q: Which show was hosted by the musician whose career Jim Halsey guided?\nA:");
  EXPECT_EQ(ex[0].target, " Jim Halsey guided the career of Roy Clark.");

  EXPECT_EQ(ex[1].id, "q1/exp/2");
  EXPECT_EQ(ex[1].task, Task::kExp);
  EXPECT_EQ(ex[1].step, 2);
  EXPECT_EQ(ex[1].prompt,
            "Wikipedia Title: Jim Halsey\nJim Halsey is an American talent manager.\n\n"
            "Wikipedia Title: Roy Acuff\nRoy Acuff was a country singer.\n\n"
            "Wikipedia Title: Roy Clark\nRoy Clark hosted Hee Haw for decades.\n\n"
            "Q: Which show was hosted by the musician whose career Jim Halsey guided?\nA:");
  EXPECT_EQ(ex[1].target, " Jim Halsey guided the career of Roy Clark. Roy Clark hosted Hee Haw.");

  EXPECT_EQ(ex[2].id, "q1/agg/3");
  EXPECT_EQ(ex[2].task, Task::kAgg);
  EXPECT_EQ(ex[2].step, 3);
  EXPECT_EQ(ex[2].prompt,
            "Wikipedia Title: Jim Halsey\nJim Halsey is an American talent manager.\n\n"
            "Wikipedia Title: Roy Acuff\nRoy Acuff was a country singer.\n\n"
            "Wikipedia Title: Roy Clark\nRoy Clark hosted Hee Haw for decades.\n\n"
            "Wikipedia Title: Hee Haw\nHee Haw is a television variety show.\n\n"
            "Q: Which show was hosted by the musician whose career Jim Halsey guided?\nA:");
  EXPECT_EQ(ex[2].target,
            " Jim Halsey guided the career of Roy Clark. Roy Clark hosted Hee Haw. So the answer is: Hee Haw.");
}

TEST(Examples, PassageCapKeepsTheFirstPassages) {
  auto ex = build_step_examples(hee_haw_trace(), PromptOptions{}, 3);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].prompt, std::string(kP1) + kP2 + kQ);
  EXPECT_EQ(ex[1].prompt, std::string(kP1) + kP2 + kP3 + kQ);
  EXPECT_EQ(ex[2].prompt, std::string(kP1) + kP2 + kP3 + kQ);  // Hee Haw arrives after the cap
}

// ---- short traces

TEST(Examples, OneStepTraceGivesOnlyAgg) {
  Trace t = hee_haw_trace();
  t.steps = {t.steps[2]};
  t.steps[0].retrieved.resize(1);
  auto ex = build_step_examples(t);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].id, "q1/agg/1");
  EXPECT_EQ(ex[0].task, Task::kAgg);
  EXPECT_EQ(ex[0].step, 1);
  EXPECT_EQ(ex[0].prompt, std::string(kP4) + kQ);
  EXPECT_EQ(ex[0].target, " So the answer is: Hee Haw.");
}

TEST(Examples, TwoStepTraceGivesInitAndAgg) {
  Trace t = hee_haw_trace();
  t.steps = {t.steps[0], t.steps[2]};
  auto ex = build_step_examples(t);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].id, "q1/init/1");
  EXPECT_EQ(ex[0].prompt, std::string(kP1) + kP2 + kQ);
  EXPECT_EQ(ex[0].target, " Jim Halsey guided the career of Roy Clark.");
  EXPECT_EQ(ex[1].id, "q1/agg/2");
  EXPECT_EQ(ex[1].step, 2);
  EXPECT_EQ(ex[1].prompt, std::string(kP1) + kP2 + kP4 + kP3 + kQ);
  EXPECT_EQ(ex[1].target, " Jim Halsey guided the career of Roy Clark. So the answer is: Hee Haw.");
}

TEST(Examples, UnansweredTraceGivesNothing) {
  Trace t = hee_haw_trace();
  t.steps.pop_back();
  t.answered = false;
  t.answer.clear();
  EXPECT_TRUE(build_step_examples(t).empty());
}

// ---- many traces

TEST(Examples, VanillaKeepsOnlyAgg) {
  Trace a = hee_haw_trace();
  Trace b = hee_haw_trace();
  b.id = "q2";
  b.steps = {b.steps[0], b.steps[2]};
  auto steper = build_examples({a, b}, false);
  ASSERT_EQ(steper.size(), 5u);
  std::vector<std::string> ids;
  for (const auto& e : steper) ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"q1/init/1", "q1/exp/2", "q1/agg/3", "q2/init/1", "q2/agg/2"}));
  auto vanilla = build_examples({a, b}, true);
  ASSERT_EQ(vanilla.size(), 2u);
  EXPECT_EQ(vanilla[0].id, "q1/agg/3");
  EXPECT_EQ(vanilla[1].id, "q2/agg/2");
  EXPECT_EQ(vanilla[0].target, steper[2].target);
}

}  // namespace
}  // namespace steper
