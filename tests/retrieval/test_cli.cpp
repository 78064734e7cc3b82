// The command-line contract (docs/DESIGN.md section 7): steper index / steper search, run as a user would.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int rc = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

CliRun steper_run(const std::string& args) {
  fs::path dir = fs::temp_directory_path() / ("steper_retrieval_cli_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string out = (dir / "out").string(), err = (dir / "err").string();
  std::string cmd = std::string(STEPER_BINARY_DIR) + "/src/cli/steper " + args + " >" + out + " 2>" + err;
  CliRun r;
  int status = std::system(cmd.c_str());
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream o(out), e(err);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("steper_retrieval_cli_idx_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    index_ = (dir_ / "index").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string index_;
};

}  // namespace

TEST_F(Cli, IndexThenSearch) {
  std::string corpus = std::string(STEPER_FIXTURES) + "/retrieval/small_corpus.jsonl";
  CliRun r = steper_run("index --corpus " + corpus + " --index " + index_);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("6 passages"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 duplicates skipped"), std::string::npos) << r.err;

  r = steper_run("search --index " + index_ + " -k 2 'Who founded the Ostrel Company?'");
  ASSERT_EQ(r.rc, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["id"], "p1");
  EXPECT_EQ(lines[0]["title"], "Halvard Brenn");
  EXPECT_EQ(lines[0]["text"], "Halvard Brenn founded the Ostrel Company in the northern city of Varnik.");
  EXPECT_GT(lines[0]["score"].get<double>(), lines[1]["score"].get<double>());

  std::string queries = (dir_ / "queries.txt").string();
  std::ofstream(queries) << "founding\n\nWhere is Quellin?\n";
  r = steper_run("search --index " + index_ + " -k 4 --clean --queries " + queries);
  ASSERT_EQ(r.rc, 0) << r.err;
  lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u);  // p1 and p3 match "founding"; p6 matches "Quellin"
  EXPECT_EQ(lines[0]["line"], 1);
  EXPECT_EQ(lines[2]["line"], 3);
  EXPECT_EQ(lines[2]["query"], "Where is Quellin?");
  EXPECT_EQ(lines[2]["id"], "p6");
}

TEST_F(Cli, BadInputNamesTheProblem) {
  CliRun r = steper_run("search --index " + index_ + " anything");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("steper: error: index folder " + index_ + " does not exist"), std::string::npos) << r.err;

  r = steper_run("index --corpus " + (dir_ / "missing.jsonl").string() + " --index " + index_);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("missing.jsonl"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(index_));

  std::string corpus = std::string(STEPER_FIXTURES) + "/retrieval/small_corpus.jsonl";
  ASSERT_EQ(steper_run("index --corpus " + corpus + " --index " + index_).rc, 0);
  r = steper_run("search --index " + index_ + " -k 0 boats");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("-k: Value 0 not in range 1 to 1000"), std::string::npos) << r.err;  // the loop's -k
  r = steper_run("search --index " + index_);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("give a QUERY or --queries FILE"), std::string::npos) << r.err;
  r = steper_run("search --index " + index_ + " --queries " + (dir_ / "nope.txt").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--queries: cannot read"), std::string::npos) << r.err;
}

TEST_F(Cli, ShardedIndexSearchesAsOne) {
  std::string corpus = std::string(STEPER_FIXTURES) + "/retrieval/small_corpus.jsonl";
  std::string sharded = (dir_ / "sharded").string();
  ASSERT_EQ(steper_run("index --corpus " + corpus + " --index " + index_).rc, 0);
  CliRun r = steper_run("index --corpus " + corpus + " --index " + sharded + " --shards 2 --memory-mb 64");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("6 passages in " + sharded + " (2 shards"), std::string::npos) << r.err;
  std::string want = steper_run("search --index " + index_ + " -k 4 'Ostrel Company boats'").out;
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(steper_run("search --index " + sharded + " -k 4 'Ostrel Company boats'").out, want);
  r = steper_run("search --index " + sharded + "/shard-000," + sharded + "/shard-001 -k 4 'Ostrel Company boats'");
  EXPECT_EQ(r.out, want) << r.err;

  r = steper_run("index --corpus " + corpus + " --index " + sharded + " --shards -1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("--shards must be 0 (automatic) or more"), std::string::npos) << r.err;
  r = steper_run("search --index " + index_ + "," + (dir_ / "gone").string() + " boats");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("index folder " + (dir_ / "gone").string() + " does not exist"), std::string::npos) << r.err;
}
