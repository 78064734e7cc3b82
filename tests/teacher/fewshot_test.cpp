// The built-in few-shot demonstrations: prompt format, well-formed reasoning, answers supported by
// the demonstration's own passages, and the data set guess.
#include <gtest/gtest.h>

#include "common/error_of.h"
#include "core/error.h"
#include "core/io.h"
#include "eval/metrics.h"
#include "teacher/fewshot.h"

namespace steper {
namespace {

TEST(FewShot, EveryTypeRendersWellFormedDemonstrations) {
  for (const auto& type : fewshot_types()) {
    auto demos = fewshot_demos(type);
    ASSERT_GE(demos.size(), 2u) << type;
    for (const auto& d : demos) {
      ASSERT_GE(d.sentences.size(), 2u) << type << ": " << d.question;
      // only the last sentence answers; the answer is stated by the demonstration's passages
      for (size_t i = 0; i + 1 < d.sentences.size(); ++i) EXPECT_FALSE(is_answer_sentence(d.sentences[i])) << d.sentences[i];
      std::string answer = extract_answer(d.sentences.back());
      ASSERT_FALSE(answer.empty()) << type << ": " << d.question;
      bool supported = false;
      for (const auto& p : d.passages) supported |= (p.title + " " + p.text).find(answer) != std::string::npos;
      EXPECT_TRUE(supported) << type << ": " << answer;
      EXPECT_EQ(d.question.back(), '?');
    }
    std::string prefix = fewshot_prefix(type);
    EXPECT_EQ(prefix.rfind("Wikipedia Title: ", 0), 0u) << type;
    EXPECT_EQ(prefix.substr(prefix.size() - 3), "\n\n\n");
    // each demonstration: passages, "Q: <question>\nA: <sentences>"
    const auto& d0 = demos[0];
    std::string a = "\nQ: " + d0.question + "\nA: " + d0.sentences[0] + " " + d0.sentences[1];
    EXPECT_NE(prefix.find(a), std::string::npos) << type;
    EXPECT_NE(prefix.find("Wikipedia Title: " + d0.passages[0].title + "\n" + d0.passages[0].text + "\n\n"),
              std::string::npos);
  }
}

TEST(FewShot, NoneFileAndUnknownType) {
  EXPECT_EQ(fewshot_prefix("none"), "");
  std::string path = "/tmp/steper-fewshot-test.txt";
  write_file_atomic(path, "my demos\n\n");
  EXPECT_EQ(fewshot_prefix(path), "my demos\n\n");
  EXPECT_HAS(error_of([&] { fewshot_prefix("hotpot"); }), "--fewshot");
}

TEST(FewShot, DetectsTheDataSet) {
  auto qs = [](std::vector<std::pair<std::string, std::string>> id_type) {
    std::vector<Question> out;
    for (auto& [id, type] : id_type) {
      Question q;
      q.id = id;
      q.type = type;
      out.push_back(q);
    }
    return out;
  };
  EXPECT_EQ(fewshot_detect_type(qs({{"2hop__13548_13529", ""}, {"3hop1__9285_5188_23307", ""}})), "musique");
  EXPECT_EQ(fewshot_detect_type(qs({{"8813f87c0bdd11eba7f7acde48001122", "compositional"},
                                    {"a9b1f87c0bdd11eba7f7acde48001122", "comparison"}})),
            "2wiki");
  EXPECT_EQ(fewshot_detect_type(qs({{"5a8b57f25542995d1e6f1371", "bridge"}, {"5a8c7595554299585d9e36b6", "comparison"}})),
            "hotpotqa");
  EXPECT_EQ(fewshot_detect_type(qs({{"train-17", "bridge"}})), "world");
  EXPECT_EQ(fewshot_detect_type({}), "world");
}

}  // namespace
}  // namespace steper
