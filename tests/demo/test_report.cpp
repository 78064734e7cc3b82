#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "demo/report.h"
#include "demo/stage.h"

namespace steper {
namespace {

TEST(PairedBootstrap, MeanIsTheMeanDifferenceAndTheIntervalCoversIt) {
  std::vector<double> a = {100, 0, 100, 100, 0, 100, 100, 0, 100, 100};
  std::vector<double> b = {0, 0, 100, 0, 0, 100, 0, 0, 100, 0};
  PairedDifference d = paired_bootstrap(a, b, 2000, 3);
  // 4 of 10 questions gained 100 points, none lost: mean 40.
  EXPECT_DOUBLE_EQ(d.mean, 40.0);
  EXPECT_LE(d.lo, 40.0);
  EXPECT_GE(d.hi, 40.0);
  EXPECT_GE(d.lo, 0.0);   // no resample can have a negative mean: every difference is >= 0
  EXPECT_LT(d.lo, d.hi);
  EXPECT_EQ(d.n, 10u);
}

TEST(PairedBootstrap, IdenticalScoresGiveAZeroInterval) {
  std::vector<double> a = {100, 0, 100, 0};
  PairedDifference d = paired_bootstrap(a, a, 500, 1);
  EXPECT_EQ(d.mean, 0.0);
  EXPECT_EQ(d.lo, 0.0);
  EXPECT_EQ(d.hi, 0.0);
}

TEST(PairedBootstrap, RejectsListsOfDifferentLength) {
  EXPECT_THROW(paired_bootstrap({1, 2}, {1}, 10, 1), std::exception);
}

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

}  // namespace
}  // namespace steper
