#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error_of.h"
#include "core/io.h"
#include "demo/pretrain_base.h"
#include "demo/report.h"
#include "demo/stage.h"

namespace steper {
namespace {

TEST(Stage, ReusedOnlyWhenTheFingerprintMatches) {
  std::string dir = testing::TempDir() + "/stage-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/a.txt") << "hello";
  std::string fp1 = fingerprint_path(dir);
  EXPECT_FALSE(stage_done(dir, fp1));
  stage_mark_done(dir, fp1, {{"kept", 3}});
  EXPECT_TRUE(stage_done(dir, fp1));
  EXPECT_EQ(stage_info(dir).value("kept", 0), 3);
  // stage.json itself does not change the folder's fingerprint; a changed file does.
  EXPECT_EQ(fingerprint_path(dir), fp1);
  std::ofstream(dir + "/a.txt") << "hello!";
  EXPECT_NE(fingerprint_path(dir), fp1);
  EXPECT_FALSE(stage_done(dir, fingerprint_path(dir)));
  EXPECT_NE(fingerprint_strings({"a", "bc"}), fingerprint_strings({"ab", "c"}));
}

TEST(Stage, AMissingRecordIsNotDoneADamagedOneIsAnErrorNamingIt) {
  std::string dir = testing::TempDir() + "/stage-damaged";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  EXPECT_FALSE(stage_done(dir, "f"));
  EXPECT_EQ(stage_info(dir), nlohmann::json::object());
  const std::string marker = dir + "/stage.json";
  struct Case {
    std::string text, error;
  };
  const std::vector<Case> cases = {
      {"{\"fingerprint\": \"f\", \"info\": {\"kept\": 3}", marker + ":1: malformed JSON"},
      {"{\"fingerprint\": 7, \"info\": {}}", marker + ": field \"fingerprint\" must be a string, got 7"},
      {"{\"info\": {}}", marker + ": missing field \"fingerprint\""},
      {"{\"fingerprint\": \"f\", \"info\": [1]}", marker + ": field \"info\" must be an object, got [1]"},
      {"[]", marker + ": expected a JSON object"}};
  for (const Case& c : cases) {
    std::ofstream(marker, std::ios::trunc) << c.text;
    for (const std::string& msg : {error_of([&] { stage_done(dir, "f"); }), error_of([&] { stage_info(dir); })})
      EXPECT_EQ(msg.substr(0, c.error.size()), c.error) << c.text;
  }
  // A stage recorded without info reads as done, with no info.
  stage_mark_done(dir, "f");
  EXPECT_TRUE(stage_done(dir, "f"));
  EXPECT_EQ(stage_info(dir), nlohmann::json::object());
}

TEST(PretrainTotal, CountsEveryRoundItsTokensAndTheWorldsRead) {
  using nlohmann::json;
  const json first = {{"recipe", {{"tokens", 14000000}, {"world_seed", 424242}}}};
  const json second = {{"recipe", {{"tokens", 14000000}, {"world_seed", 424242}}}, {"continued_from", first}};
  const json third = {{"recipe", {{"tokens", 7000000}, {"world_seed", 434343}}}, {"continued_from", second}};
  const PretrainTotal t = pretrain_total(third);
  EXPECT_EQ(t.rounds, 3);
  EXPECT_EQ(t.tokens, 35000000);
  EXPECT_EQ(t.worlds, 2);
  EXPECT_EQ(pretrain_total(second).worlds, 1);
  // a round written before continued_from existed (null) ends the chain; no recipe, no round
  EXPECT_EQ(pretrain_total(json{{"recipe", {{"tokens", 5}}}, {"continued_from", nullptr}}).rounds, 1);
  EXPECT_EQ(pretrain_total(json::object()).rounds, 0);
}

// One system's multi-step evaluation folder: EM per question (0/1) and the metrics the report reads.
void write_eval(const std::string& dir, const std::vector<int>& em, double em_2hop, double em_3hop,
                const std::string& sentence = "") {
  std::filesystem::create_directories(dir);
  double mean = 0;
  std::string lines;
  for (size_t i = 0; i < em.size(); ++i) {
    mean += 100.0 * em[i] / static_cast<double>(em.size());
    nlohmann::json steps = nlohmann::json::array();
    if (!sentence.empty()) steps.push_back({{"sentence", sentence}});
    lines += nlohmann::json{{"id", "q" + std::to_string(i)}, {"question", "Q" + std::to_string(i) + "?"},
                            {"answers", {"a"}}, {"steps", steps}, {"em", em[i]}}.dump() + "\n";
  }
  write_file_atomic(dir + "/predictions.jsonl", lines);
  write_json_atomic(dir + "/metrics.json",
                    nlohmann::json{{"n", em.size()}, {"em", mean}, {"em_ci", {mean, mean}},
                                   {"by_hops", {{"2", {{"em", em_2hop}, {"n", 2}}}, {"3", {{"em", em_3hop}, {"n", 2}}}}}});
}

TEST(Report, BothFrameworksSideBySideWithTheSelfAskVerdict) {
  const std::string out = testing::TempDir() + "/report-test";
  std::filesystem::remove_all(out);
  for (const std::string s : {"teacher", "base", "steper", "vanilla"})
    write_eval(out + "/eval/" + s + "/multi", {1, 0, 1, 0}, 50, 50);
  write_eval(out + "/eval-self-ask/teacher/multi", {1, 1, 1, 1}, 100, 100);
  write_eval(out + "/eval-self-ask/base/multi", {0, 0, 0, 0}, 0, 0);
  write_eval(out + "/eval-self-ask/steper/multi", {1, 1, 1, 0}, 100, 50, "Follow up: where?\nIntermediate answer: x");
  write_eval(out + "/eval-self-ask/vanilla/multi", {0, 0, 0, 0}, 0, 0);
  ReportInputs in;
  in.out_dir = out;
  in.systems = {"teacher", "base", "steper", "vanilla"};
  in.objectives = {"steper", "vanilla"};
  in.self_ask_systems = in.systems;
  in.self_ask_objectives = in.objectives;
  demo_write_report(in);
  const std::string md = read_file(out + "/report.md");
  EXPECT_NE(md.find("## IRCoT and Self-Ask side by side"), std::string::npos);
  EXPECT_NE(md.find("| steper | 50.0 [50.0, 50.0] | 75.0 [75.0, 75.0] | 50.0 / 50.0 | 100.0 / 50.0 |"),
            std::string::npos)
      << md;
  // three of four questions: StepER right where vanilla KD is wrong, never the other way round
  EXPECT_NE(md.find("StepER beats vanilla KD on multi-step EM under Self-Ask: +75.0 points (paired bootstrap 95% CI "),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("4 test questions; StepER 75.0 vs vanilla KD 0.0)"), std::string::npos);
  // example traces under both frameworks; a Self-Ask step's two lines stay in one table row
  const size_t under = md.find("Under Self-Ask:");
  ASSERT_NE(under, std::string::npos) << md;
  EXPECT_NE(md.find("| steper | Follow up: where? Intermediate answer: x  | 1 |", under), std::string::npos) << md;
  EXPECT_LT(md.find("## Example traces"), under);
  nlohmann::json summary = read_json(out + "/summary.json");
  EXPECT_DOUBLE_EQ(summary["self_ask"]["steper_vs_vanilla"]["em_diff"].get<double>(), 75.0);
  EXPECT_DOUBLE_EQ(summary["self_ask"]["results"]["teacher"]["multi"]["em"].get<double>(), 100.0);
  // without Self-Ask systems there is no such section
  in.self_ask_systems.clear();
  demo_write_report(in);
  EXPECT_EQ(read_file(out + "/report.md").find("Self-Ask"), std::string::npos);
}

TEST(Report, TrainingRunsGiveAPerRunTableAndTheTwoLevelVerdict) {
  const std::string out = testing::TempDir() + "/report-runs-test";
  std::filesystem::remove_all(out);
  write_eval(out + "/eval/teacher/multi", {1, 1, 1, 1}, 100, 100);
  write_eval(out + "/eval/base/multi", {0, 0, 0, 0}, 0, 0);
  write_eval(out + "/eval/steper/multi", {1, 1, 1, 0}, 100, 50);
  write_eval(out + "/eval/steper-run2/multi", {1, 1, 1, 1}, 100, 100);
  write_eval(out + "/eval/vanilla/multi", {0, 0, 0, 0}, 0, 0);
  write_eval(out + "/eval/vanilla-run2/multi", {0, 0, 0, 0}, 0, 0);
  ReportInputs in;
  in.out_dir = out;
  in.systems = {"teacher", "base", "steper", "vanilla"};
  in.objectives = {"steper", "vanilla"};
  in.runs = 2;
  demo_write_report(in);
  const std::string md = read_file(out + "/report.md");
  // each run's EM, the mean, the sd over runs (n - 1), the share of the teacher, the per-hop means
  EXPECT_NE(md.find("| steper | 75.0 | 100.0 | 87.5 | 17.7 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.88 | 100.0 / 75.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| teacher | 100.0 | - | 100.0 | - | [100.0, 100.0] | 1.00 |"), std::string::npos) << md;
  // StepER's 87.5 against vanilla KD's 0: no resample of runs and questions gives StepER less than vanilla
  // KD, and only 1 in 1,024 gives them equal (run 1 twice, question 4 four times), so the interval is above 0
  EXPECT_NE(md.find("StepER beats vanilla KD on multi-step EM: +87.5 points (two-level bootstrap 95% CI ["),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("resampling 2 and 2 training runs and 4 test questions"), std::string::npos) << md;
  EXPECT_NE(md.find("| steper - vanilla | the whole objective | 2 vs 2 | +87.5 ["), std::string::npos) << md;
  EXPECT_NE(md.find("![multi-step EM by system](plots/em_by_system.svg)"), std::string::npos);
  const std::string svg = read_file(out + "/plots/em_by_system.svg");
  EXPECT_NE(svg.find(">steper</text>"), std::string::npos);
  EXPECT_EQ(svg.find("class=\"dot\"") == std::string::npos, false);
  const std::string hops = read_file(out + "/plots/em_by_hops.svg");
  EXPECT_NE(hops.find(">2 hops</text>"), std::string::npos);
  nlohmann::json summary = read_json(out + "/summary.json");
  EXPECT_EQ(summary["runs"], 2);
  EXPECT_EQ(summary["across_runs"]["IRCoT"]["steper"]["em_runs"], nlohmann::json({75.0, 100.0}));
  EXPECT_DOUBLE_EQ(summary["steper_vs_vanilla"]["em_diff"].get<double>(), 87.5);
  EXPECT_EQ(summary["steper_vs_vanilla"]["runs"], nlohmann::json({2, 2}));
  // one run: the verdict says its interval covers the questions only
  in.runs = 1;
  demo_write_report(in);
  EXPECT_NE(read_file(out + "/report.md").find("the interval covers the test questions only"), std::string::npos);
}

}  // namespace
}  // namespace steper
