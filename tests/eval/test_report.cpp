// Aggregate metrics on small hand-built traces (values computed by hand).
#include <gtest/gtest.h>

#include <set>

#include <cmath>

#include "common/error_of.h"
#include "core/error.h"
#include "eval/report.h"

namespace steper {
namespace {

ScoredPassage sp(const std::string& id, const std::string& title) {
  ScoredPassage p;
  p.passage = Passage{id, title, "text of " + title};
  return p;
}

Question question(const std::string& id, const std::string& type, int hops, std::vector<std::string> titles,
                  std::vector<std::string> answers) {
  Question q;
  q.id = id;
  q.question = "q" + id;
  q.type = type;
  q.hops = hops;
  q.answers = std::move(answers);
  for (const auto& t : titles) q.supporting_facts.push_back(SupportingFact{t, 0});
  return q;
}

Trace trace_for(const Question& q, std::vector<TraceStep> steps, const std::string& answer, bool answered) {
  Trace t;
  t.id = q.id;
  t.question = q.question;
  t.answers = q.answers;
  t.type = q.type;
  t.hops = q.hops;
  t.steps = std::move(steps);
  // each step shows the passages it retrieved that no earlier step showed (no cap reached here)
  std::set<std::string> seen;
  for (auto& st : t.steps)
    for (const auto& p : st.retrieved)
      if (seen.insert(p.passage.id).second) st.shown.push_back(p.passage);
  t.answer = answer;
  t.answered = answered;
  return t;
}

TEST(Report, HandComputedAggregates) {
  std::vector<Question> qs = {question("1", "bridge", 2, {"A", "B"}, {"Hee Haw"}),
                              question("2", "bridge", 3, {"C", "D", "E"}, {"Paris"}),
                              question("3", "comparison", 2, {"F", "G"}, {"yes"})};
  std::vector<Trace> ts;
  // q1: step1 finds A, step2 finds B, step3 answers exactly: EM 1, F1 1, Acc 1; recall 1/2 then 1, 3 steps, 2 retrievals
  ts.push_back(trace_for(qs[0], {TraceStep{"q1", {sp("a", "A"), sp("x", "X")}, "s1"},
                                 TraceStep{"s1", {sp("b", "B"), sp("a", "A")}, "s2"},
                                 TraceStep{"", {}, "So the answer is: Hee Haw."}},
                         "Hee Haw", true));
  // q2: answers "Paris France": EM 0, F1 2*(1/2*1)/(1.5)=2/3, Acc 1; finds C then D; 2 steps, 2 retrievals
  ts.push_back(trace_for(qs[1], {TraceStep{"q2", {sp("c", "C")}, "s1"},
                                 TraceStep{"s1", {sp("d", "D")}, "So the answer is: Paris France."}},
                         "Paris France", true));
  // q3: never answers; 1 step, 1 retrieval, finds nothing
  ts.push_back(trace_for(qs[2], {TraceStep{"q3", {sp("z", "Z")}, "s1"}}, "", false));
  nlohmann::json m = eval_metrics(ts, qs);
  EXPECT_EQ(m["n"], 3);
  EXPECT_NEAR(m["em"].get<double>(), 100.0 / 3, 0.01);
  EXPECT_NEAR(m["f1"].get<double>(), 100.0 * (1 + 2.0 / 3) / 3, 0.01);
  EXPECT_NEAR(m["acc"].get<double>(), 200.0 / 3, 0.01);
  EXPECT_NEAR(m["unanswered"].get<double>(), 100.0 / 3, 0.01);
  EXPECT_NEAR(m["steps"].get<double>(), 2.0, 0.01);
  EXPECT_NEAR(m["retrievals"].get<double>(), 5.0 / 3, 0.01);
  EXPECT_NEAR(m["passages"].get<double>(), (3 + 2 + 1) / 3.0, 0.01);
  // recall: q1 1.0, q2 2/3, q3 0 -> 5/9
  EXPECT_NEAR(m["recall"].get<double>(), 100.0 * 5 / 9, 0.01);
  // by step: s1 (1/2 + 1/3 + 0)/3, s2 (1 + 2/3 + 0)/3, s3 same as s2
  ASSERT_EQ(m["recall_by_step"].size(), 3u);
  EXPECT_NEAR(m["recall_by_step"][0].get<double>(), 100.0 * (0.5 + 1.0 / 3) / 3, 0.01);
  EXPECT_NEAR(m["recall_by_step"][1].get<double>(), 100.0 * (1 + 2.0 / 3) / 3, 0.01);
  EXPECT_NEAR(m["recall_by_step"][2].get<double>(), 100.0 * (1 + 2.0 / 3) / 3, 0.01);
  EXPECT_EQ(m["by_type"]["bridge"]["n"], 2);
  EXPECT_NEAR(m["by_type"]["bridge"]["em"].get<double>(), 50.0, 0.01);
  EXPECT_EQ(m["by_type"]["comparison"]["n"], 1);
  EXPECT_NEAR(m["by_type"]["comparison"]["unanswered"].get<double>(), 100.0, 0.01);
  EXPECT_EQ(m["by_hops"]["2"]["n"], 2);
  EXPECT_EQ(m["by_hops"]["3"]["n"], 1);
  EXPECT_NEAR(m["by_hops"]["3"]["f1"].get<double>(), 200.0 / 3, 0.01);
  double lo = m["em_ci"][0], hi = m["em_ci"][1];
  EXPECT_LE(lo, m["em"].get<double>());
  EXPECT_GE(hi, m["em"].get<double>());
  EXPECT_FALSE(format_metrics_table(m).empty());
}

TEST(Report, TraceWithoutQuestionIsAnError) {
  Trace t;
  t.id = "missing";
  EXPECT_HAS(error_of([&] { eval_metrics({t}, {}); }), "missing");
}

}  // namespace
}  // namespace steper
