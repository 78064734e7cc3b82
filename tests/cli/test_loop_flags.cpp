// The loop flags each kind of command takes: a command is given only flags it reads, so a flag it
// would drop is refused by the parser (steper exits 1 naming it).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/args.h"

namespace steper {
namespace {

// The parser's message for `args` given to a command with the loop flags of `use` ("" when they parse).
std::string parse_error(LoopUse use, std::vector<std::string> args) {
  CLI::App app("steper");
  CLI::App* sub = app.add_subcommand("cmd");
  add_loop_flags(sub, use);
  args.insert(args.begin(), "cmd");
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

// Whether the parser refused `flag` as an argument the command does not take.
bool refused(const std::string& msg, const std::string& flag) {
  return msg.rfind("The following argument", 0) == 0 && msg.find("not expected") != std::string::npos &&
         msg.find(flag) != std::string::npos;
}

TEST(LoopFlags, CommandsThatGenerateNothingRefuseTheGenerationFlags) {
  for (LoopUse use : {LoopUse::kTeach, LoopUse::kDemo, LoopUse::kRecorded}) {
    EXPECT_TRUE(refused(parse_error(use, {"--batch", "4"}), "--batch"));
    EXPECT_TRUE(refused(parse_error(use, {"--max-sentence-tokens", "9"}), "--max-sentence-tokens"));
    EXPECT_EQ(parse_error(use, {"--max-steps", "3"}), "");
  }
}

TEST(LoopFlags, AskRefusesBatchButKeepsTheSentenceLimit) {
  EXPECT_TRUE(refused(parse_error(LoopUse::kAsk, {"--batch", "4"}), "--batch"));
  EXPECT_EQ(parse_error(LoopUse::kAsk, {"--max-sentence-tokens", "9", "--mode", "single"}), "");
}

TEST(LoopFlags, CommandsThatRunTheLoopTakeBoth) {
  for (LoopUse use : {LoopUse::kRun, LoopUse::kTeachRun}) {
    EXPECT_EQ(parse_error(use, {"--batch", "4", "--max-sentence-tokens", "9", "--framework", "self-ask"}), "");
    EXPECT_NE(parse_error(use, {"--batch", "0"}).find("--batch"), std::string::npos);  // checked, not dropped
  }
}

TEST(LoopFlags, ModeAndFrameworkGoOnlyWhereTheyAreRead) {
  EXPECT_TRUE(refused(parse_error(LoopUse::kTeachRun, {"--mode", "single"}), "--mode"));
  EXPECT_EQ(parse_error(LoopUse::kTeach, {"--framework", "self-ask"}), "");
  EXPECT_TRUE(refused(parse_error(LoopUse::kDemo, {"--framework", "self-ask"}), "--framework"));
}

}  // namespace
}  // namespace steper
