#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace steper
