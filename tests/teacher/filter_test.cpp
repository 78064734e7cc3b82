// Keep/drop verdicts of teacher traces, with hand-made traces.
#include <gtest/gtest.h>

#include "common/error_of.h"
#include "core/error.h"
#include "teacher/filter.h"

namespace steper {
namespace {

TraceStep step_with(std::vector<std::string> titles, const std::string& sentence) {
  TraceStep s;
  for (const auto& t : titles) {
    s.retrieved.push_back({{"id-" + t, t, "text"}, 1.0});
    s.shown.push_back({"id-" + t, t, "text"});
  }
  s.sentence = sentence;
  return s;
}

Question two_hop() {
  Question q;
  q.id = "q";
  q.answers = {"Hee Haw", "Hee-Haw show"};
  q.supporting_facts = {{"Jim Halsey", 0}, {"Roy Clark", 1}};
  return q;
}

Trace answered(std::vector<TraceStep> steps, const std::string& answer) {
  Trace t;
  t.id = "q";
  t.steps = std::move(steps);
  t.answer = answer;
  t.answered = true;
  return t;
}

// ---- the cumulative evidence rule (over the passages each step showed)

TEST(Filter, EachStepsEvidenceMustBeShownByThatStep) {
  Question q = two_hop();
  EXPECT_TRUE(evidence_shown_by_step(answered({step_with({"Jim Halsey"}, "a"), step_with({"Roy Clark"}, "b")}, ""), q));
  EXPECT_TRUE(evidence_shown_by_step(answered({step_with({"Jim Halsey", "Roy Clark"}, "a"), step_with({}, "b")}, ""), q));
  // Jim Halsey is needed at step 1 but arrives at step 2
  EXPECT_FALSE(evidence_shown_by_step(answered({step_with({"Roy Clark"}, "a"), step_with({"Jim Halsey"}, "b")}, ""), q));
  // Roy Clark never retrieved
  EXPECT_FALSE(evidence_shown_by_step(answered({step_with({"Jim Halsey"}, "a"), step_with({"Hee Haw"}, "b")}, ""), q));
  // a one-step trace: both facts must be there by its only step; titles compared trimmed
  EXPECT_TRUE(evidence_shown_by_step(answered({step_with({" Roy Clark", "Jim Halsey "}, "a")}, ""), q));
  EXPECT_FALSE(evidence_shown_by_step(answered({step_with({"Jim Halsey"}, "a")}, ""), q));
  // the any-step rule ignores the order
  EXPECT_TRUE(evidence_shown(answered({step_with({"Roy Clark"}, "a"), step_with({"Jim Halsey"}, "b")}, ""), q));
  Question none = q;
  none.supporting_facts.clear();
  EXPECT_FALSE(evidence_shown_by_step(answered({step_with({"Jim Halsey"}, "a")}, ""), none));
}

TEST(Filter, SeveralFactsOfOneParagraphAreSeveralSteps) {
  Question q = two_hop();
  q.supporting_facts = {{"Jim Halsey", 0}, {"Jim Halsey", 2}, {"Roy Clark", 0}};
  EXPECT_EQ(supporting_titles(q), (std::vector<std::string>{"Jim Halsey", "Roy Clark"}));
  // Roy Clark is the third fact: retrieved at step 3 is in time
  EXPECT_TRUE(evidence_shown_by_step(
      answered({step_with({"Jim Halsey"}, "a"), step_with({}, "b"), step_with({"Roy Clark"}, "c")}, ""), q));
  EXPECT_FALSE(evidence_shown_by_step(
      answered({step_with({"Jim Halsey"}, "a"), step_with({}, "b"), step_with({}, "c"), step_with({"Roy Clark"}, "d")}, ""),
      q));
}

// ---- verdicts

TEST(Filter, VerdictReasons) {
  Question q = two_hop();
  std::vector<TraceStep> good = {step_with({"Jim Halsey"}, "a"), step_with({"Roy Clark"}, "b")};
  Trace t = answered(good, "Hee Haw");
  TraceVerdict v = judge_trace(t, q, KeepMetric::kEm, EvidenceRule::kByStep);
  EXPECT_TRUE(v.kept);
  EXPECT_EQ(v.reason, "kept");
  EXPECT_EQ(v.em, 1.0);

  // EM fails, Acc (gold is a substring of the normalised prediction) passes
  t.answer = "the show Hee Haw";
  EXPECT_EQ(judge_trace(t, q, KeepMetric::kEm, EvidenceRule::kNone).reason, "wrong answer");
  v = judge_trace(t, q, KeepMetric::kAcc, EvidenceRule::kNone);
  EXPECT_TRUE(v.kept);
  EXPECT_EQ(v.em, 0.0);
  EXPECT_EQ(v.acc, 1.0);
  // an alias counts
  t.answer = "hee-haw show";
  EXPECT_TRUE(judge_trace(t, q, KeepMetric::kEm, EvidenceRule::kNone).kept);

  t.answered = false;
  t.answer.clear();
  EXPECT_EQ(judge_trace(t, q, KeepMetric::kAcc, EvidenceRule::kNone).reason, "no answer");

  t = answered({step_with({"Roy Clark"}, "a"), step_with({"Jim Halsey"}, "b")}, "Hee Haw");
  EXPECT_EQ(judge_trace(t, q, KeepMetric::kEm, EvidenceRule::kByStep).reason, "evidence not retrieved");
  EXPECT_TRUE(judge_trace(t, q, KeepMetric::kEm, EvidenceRule::kAnyStep).kept);
  EXPECT_TRUE(judge_trace(t, q, KeepMetric::kEm, EvidenceRule::kNone).kept);
  Question none = q;
  none.supporting_facts.clear();
  EXPECT_EQ(judge_trace(t, none, KeepMetric::kEm, EvidenceRule::kByStep).reason, "no supporting facts");
}

TEST(Filter, KeepFlagIsChecked) {
  EXPECT_EQ(keep_metric_from_string("em"), KeepMetric::kEm);
  EXPECT_EQ(keep_metric_from_string("acc"), KeepMetric::kAcc);
  EXPECT_HAS(error_of([&] { keep_metric_from_string("f1"); }), "--keep");
}

}  // namespace
}  // namespace steper
