// core/io's writers on a full disk: /dev/full fails every write with ENOSPC, the error a full file
// system gives. A temporary name that links to it puts the atomic writer on it without privileges.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>

#include "common/error_of.h"
#include "common/file_size_limit.h"
#include "core/io.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

class FullDiskTest : public testing::Test {
 protected:
  std::string dir = testing::TempDir() + "/io-" + testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string path = dir + "/out.json";
  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  // The temporary name the atomic writer uses for path, linked to /dev/full.
  void put_on_full_disk() { fs::create_symlink("/dev/full", path + ".tmp-" + std::to_string(getpid())); }
};

TEST_F(FullDiskTest, AtomicWriteSaysNoSpaceNamingThePath) {
  put_on_full_disk();
  std::string msg = error_of([&] { write_file_atomic(path, "{\"a\": 1}\n"); });
  EXPECT_EQ(msg, path + ": write failed: No space left on device");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(fs::symlink_status(path + ".tmp-" + std::to_string(getpid()))));  // removed
}

TEST_F(FullDiskTest, StreamedAtomicWriteSaysNoSpaceAtCommitOrWrite) {
  put_on_full_disk();
  std::string msg = error_of([&] {
    AtomicFile f(path);
    std::string chunk(3 << 20, 'x');  // larger than the buffer: written at once
    f.write(chunk);
    f.commit();
  });
  EXPECT_EQ(msg, path + ": write failed: No space left on device");
}

TEST_F(FullDiskTest, AppendSaysNoSpaceNamingThePath) {
  JsonlAppender out("/dev/full");
  EXPECT_EQ(error_of([&] { out.append({{"id", "q1"}}); }), "/dev/full: write failed: No space left on device");
  EXPECT_EQ(error_of([&] { out.append_raw("\n"); }), "/dev/full: write failed: No space left on device");
}

// A file-size limit (common/file_size_limit.h) cuts a write short: the error is the failing call's errno.
TEST_F(FullDiskTest, AShortAppendIsContinuedAndItsFailureNamed) {
  const std::string log = dir + "/log.jsonl";
  JsonlAppender out(log);
  std::string msg;
  {
    FileSizeLimit limit(10);
    errno = ENOTTY;  // what a terminal check earlier in the run leaves behind
    msg = error_of([&] { out.append({{"id", "a question id longer than ten bytes"}}); });
  }
  EXPECT_EQ(msg, log + ": write failed: File too large");
  EXPECT_EQ(fs::file_size(log), 10u);  // the line's first ten bytes: a torn tail for the readers
}

TEST_F(FullDiskTest, AShortAtomicWriteIsContinuedAndItsFailureNamed) {
  std::string msg;
  {
    FileSizeLimit limit(10);
    errno = ENOTTY;
    msg = error_of([&] { write_file_atomic(path, std::string(100, 'x')); });
  }
  EXPECT_EQ(msg, path + ": write failed: File too large");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST_F(FullDiskTest, AtomicWriteReplacesWholeAndLeavesNoTemporaryFile) {
  write_file_atomic(path, "old");
  write_file_atomic(path, "new contents");
  EXPECT_EQ(read_file(path), "new contents");
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.path().filename() != "out.json" ? 1 : 0;
  EXPECT_EQ(files, 0u);
}

TEST_F(FullDiskTest, AnUncommittedAtomicFileLeavesNothing) {
  {
    AtomicFile f(path);
    f.write("half");
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST_F(FullDiskTest, RenameDurableNamesBothOnFailure) {
  std::string msg = error_of([&] { rename_durable(dir + "/absent", dir + "/there"); });
  EXPECT_EQ(msg, dir + "/there: rename from " + dir + "/absent failed: No such file or directory");
}

}  // namespace
}  // namespace steper

namespace steper {
namespace {

// ---- JSON Lines with a torn tail

class JsonlTailTest : public testing::Test {
 protected:
  std::string dir = testing::TempDir() + "/jsonl-" + testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string path = dir + "/log.jsonl";
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  // The "id"s read, with how the file ended.
  std::vector<std::string> ids(JsonlTail tail, JsonlEnd* end) {
    std::vector<std::string> out;
    *end = for_each_jsonl(path, [&](const nlohmann::json& j, size_t) { out.push_back(j.at("id").get<std::string>()); }, tail);
    return out;
  }
};

const std::string kA = "{\"id\": \"a\"}\n", kB = "{\"id\": \"b\"}\n";

TEST_F(JsonlTailTest, AHalfWrittenLastLineIsSkippedOnlyWhenAsked) {
  write_file_atomic(path, kA + "\n" + kB + "{\"id\": \"c\", \"te");
  JsonlEnd end;
  EXPECT_EQ(ids(JsonlTail::kTornTail, &end), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(end.torn_tail);
  EXPECT_FALSE(end.missing_newline);
  EXPECT_EQ(end.complete_bytes, kA.size() + 1 + kB.size());
  std::string msg = error_of([&] { ids(JsonlTail::kStrict, &end); });
  EXPECT_EQ(msg.rfind(path + ":4: malformed JSON", 0), 0u) << msg;
}

TEST_F(JsonlTailTest, AWholeLastLineWithoutNewlineIsRead) {
  write_file_atomic(path, kA + "{\"id\": \"b\"}");
  for (JsonlTail tail : {JsonlTail::kStrict, JsonlTail::kTornTail}) {
    JsonlEnd end;
    EXPECT_EQ(ids(tail, &end), (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(end.torn_tail);
    EXPECT_TRUE(end.missing_newline);
    EXPECT_EQ(end.complete_bytes, kA.size() + kB.size() - 1);
  }
}

TEST_F(JsonlTailTest, ADamagedLineBeforeTheLastIsAnErrorEvenWithTornTails) {
  write_file_atomic(path, kA + "{\"id\": \"b\n" + kB);
  JsonlEnd end;
  std::string msg = error_of([&] { ids(JsonlTail::kTornTail, &end); });
  EXPECT_EQ(msg.rfind(path + ":2: malformed JSON", 0), 0u) << msg;
}

TEST_F(JsonlTailTest, BlankLinesAtTheEndAreNeitherTornNorCounted) {
  write_file_atomic(path, kA + "  \n \t");
  JsonlEnd end;
  EXPECT_EQ(ids(JsonlTail::kTornTail, &end), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(end.torn_tail);
  EXPECT_FALSE(end.missing_newline);
  EXPECT_EQ(end.complete_bytes, kA.size() + 3);
}

}  // namespace
}  // namespace steper
