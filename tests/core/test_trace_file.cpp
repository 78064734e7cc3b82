// The strict trace-file reader: every damaged or ambiguous file is an error naming file and line.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error_of.h"
#include "core/error.h"
#include "core/io.h"
#include "core/trace_file.h"

namespace steper {
namespace {

std::string line(const std::string& id, const std::string& extra = "") {
  return "{\"id\":\"" + id + "\",\"question\":\"Q?\",\"answers\":[\"x\"],\"steps\":[{\"query\":\"q\",\"sentence\":"
         "\"So the answer is: x.\"}],\"answer\":\"x\",\"answered\":true,\"kept\":true" + extra + "}\n";
}

class TraceFileTest : public testing::Test {
 protected:
  std::string dir = testing::TempDir() + "/trace-file-" + testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string path = dir + "/t.jsonl";
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  // The error message of reading `content`, or "" when it reads.
  std::string read_error(const std::string& content, bool kept_only = true) {
    write_file_atomic(path, content);
    std::string m = error_of([&] { read_trace_file(path, kept_only); });
    if (m == kNoError) return m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;  // one line
    EXPECT_EQ(m.rfind(path, 0), 0u) << m;            // naming the file first
    return m;
  }
};

TEST_F(TraceFileTest, ReadsKeptTracesInOrder) {
  write_file_atomic(path, line("a") + line("b", ",\"kept\":false") + line("c"));
  TraceFile f = read_trace_file(path, true);
  ASSERT_EQ(f.traces.size(), 2u);
  EXPECT_EQ(f.traces[0].id, "a");
  EXPECT_EQ(f.traces[1].id, "c");
  EXPECT_EQ(f.lines, 3u);
  EXPECT_EQ(f.not_kept, 1u);
  EXPECT_EQ(read_trace_file(path, false).traces.size(), 3u);
}

TEST_F(TraceFileTest, EmptyMissingAndAllDroppedFilesAreErrors) {
  EXPECT_NE(read_error("").find("empty"), std::string::npos);
  EXPECT_NE(read_error("\n  \n").find("empty"), std::string::npos);
  EXPECT_NE(read_error(line("a", ",\"kept\":false")).find("none of its 1 traces is kept"), std::string::npos);
  EXPECT_EQ(read_error(line("a", ",\"kept\":false"), false), kNoError);
  EXPECT_THROW(read_trace_file(dir + "/missing.jsonl", true), Error);
}

TEST_F(TraceFileTest, ATornLastLineIsAnErrorNotADroppedTrace) {
  std::string whole = line("a") + line("b");
  EXPECT_NE(read_error(whole.substr(0, whole.size() - 9)).find("cut short"), std::string::npos);
  // a whole last line without its newline is fine
  EXPECT_EQ(read_error(whole.substr(0, whole.size() - 1)), kNoError);
}

TEST_F(TraceFileTest, DuplicatedIdsAreErrorsNamingBothLines) {
  std::string m = read_error(line("a") + line("b") + line("a"));
  EXPECT_NE(m.find(path + ":3:"), std::string::npos) << m;
  EXPECT_NE(m.find("first on line 1"), std::string::npos) << m;
}

TEST_F(TraceFileTest, AKeptTraceWithoutStepsOrAnswerIsAnError) {
  std::string no_steps = "{\"id\":\"e\",\"question\":\"Q?\",\"answers\":[\"x\"],\"steps\":[],\"kept\":true}\n";
  EXPECT_NE(read_error(line("a") + no_steps).find(path + ":2: trace e is kept but has no steps"), std::string::npos);
  std::string dropped = "{\"id\":\"e\",\"question\":\"Q?\",\"answers\":[\"x\"],\"steps\":[],\"kept\":false}\n";
  EXPECT_EQ(read_error(line("a") + dropped), kNoError);  // a dropped trace may have ended before its first step
}

TEST_F(TraceFileTest, WrongTypesNameTheLineAndField) {
  std::string m = read_error(line("a") + "{\"id\":\"b\",\"question\":\"Q?\",\"answers\":[\"x\"],\"hops\":\"two\",\"steps\":[]}\n");
  EXPECT_NE(m.find(path + ":2: field \"hops\""), std::string::npos) << m;
  m = read_error("{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[\"x\"],\"steps\":[],\"kept\":\"yes\"}\n");
  EXPECT_NE(m.find("\"kept\""), std::string::npos) << m;
  m = read_error("{\"id\":\"a\",\"question\":7,\"answers\":[\"x\"],\"steps\":[]}\n");
  EXPECT_NE(m.find(path + ":1:"), std::string::npos) << m;
  EXPECT_NE(m.find("question"), std::string::npos) << m;
  m = read_error("{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[\"x\"],\"steps\":[{\"sentence\":5}]}\n");
  EXPECT_NE(m.find("steps[0]"), std::string::npos) << m;
  m = read_error("{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[\"x\"],\"loop\":{\"k\":0},\"steps\":[]}\n");
  EXPECT_NE(m.find("loop"), std::string::npos) << m;
}

}  // namespace
}  // namespace steper
