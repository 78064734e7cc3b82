// Sharded indexes: shards built in parallel, several index folders, and remote shards served by
// Xapian's xapian-tcpsrv are searched as one index, with the ranking and scores of the single
// index over the same passages; missing, damaged and vanished shards are errors naming them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <xapian.h>

#include "core/error.h"
#include "retrieval/retriever.h"
#include "common/reference_tool.h"
#include "retrieval_test_util.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

using namespace testutil;  // NOLINT: the suite's helpers

// The reference for the suite: a single Xapian database; and 3 Xapian shards (servable).
class Shards : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("shards");
    corpus_ = tie_corpus(3000, 5);
    IndexOptions one = quiet(), three = quiet();
    one.backend = IndexBackend::xapian;
    one.shards = 1;
    three.shards = 3;
    three.threads = 2;     // two writers for three shards
    three.servable = true;  // served by xapian-tcpsrv below
    bm25_build_index(corpus_, dir_->sub("one"), one);
    IndexStats st = bm25_build_index(corpus_, dir_->sub("three"), three);
    EXPECT_EQ(st.shards, 3u);
    single_ = bm25_open_index(dir_->sub("one"), 1).release();
  }
  static void TearDownTestSuite() {
    delete single_;
    delete dir_;
  }
  static TempDir* dir_;
  static std::vector<Passage> corpus_;
  static Retriever* single_;
};
TempDir* Shards::dir_ = nullptr;
std::vector<Passage> Shards::corpus_;
Retriever* Shards::single_ = nullptr;

// ---- xapian-tcpsrv on loopback

bool tcpsrv_available() { return std::system("command -v xapian-tcpsrv >/dev/null 2>&1") == 0; }

unsigned free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// xapian-tcpsrv serving one folder on 127.0.0.1, in its own process group (the server forks a
// process per connection; stopping the group ends those too).
class TcpServer {
 public:
  explicit TcpServer(const std::string& db, int idle_timeout_ms = 60000) : port_(free_port()) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int null = open("/dev/null", O_WRONLY);  // its per-connection messages on a killed client
      dup2(null, 1);
      dup2(null, 2);
      std::string port = std::to_string(port_), idle = std::to_string(idle_timeout_ms);
      execlp("xapian-tcpsrv", "xapian-tcpsrv", "--interface", "127.0.0.1", "--port", port.c_str(), "--idle-timeout",
             idle.c_str(), "--quiet", db.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(pid_, pid_);
    for (int attempt = 0; attempt < 100; ++attempt) {  // ready when it answers (10 s at most)
      try {
        Xapian::Remote::open("127.0.0.1", port_, 1000, 1000).get_doccount();
        return;
      } catch (const Xapian::Error&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    ADD_FAILURE() << "xapian-tcpsrv on port " << port_ << " did not answer";
  }
  ~TcpServer() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGCONT);
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void pause() { kill(-pid_, SIGSTOP); }
  std::string spec() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  unsigned port_;
  pid_t pid_ = -1;
};

}  // namespace

// ---- local shards

TEST_F(Shards, ShardFolderRanksAsTheSingleIndex) {
  auto sharded = bm25_open_index(dir_->sub("three"), 2);
  expect_same_ranking(*sharded, *single_);
  EXPECT_TRUE(fs::exists(dir_->sub("three") + "/shard-002"));
  EXPECT_TRUE(fs::exists(dir_->sub("three") + "/XAPIANDB"));  // Xapian's own tools open it as one database
  EXPECT_EQ(Xapian::Database(dir_->sub("three")).get_doccount(), corpus_.size());
}

TEST_F(Shards, ShardsListedOneByOneRankAsTheSingleIndex) {
  std::string d = dir_->sub("three");
  auto listed = bm25_open_index(d + "/shard-000," + d + "/shard-001, " + d + "/shard-002", 1);
  expect_same_ranking(*listed, *single_);
}

TEST_F(Shards, SeparateFoldersCombineTheirStatistics) {
  // Two folders built on their own from two halves score as one index over both halves.
  TempDir dir("halves");
  std::vector<Passage> a(corpus_.begin(), corpus_.begin() + 1000), b(corpus_.begin() + 1000, corpus_.end());
  bm25_build_index(a, dir.sub("a"), quiet());
  bm25_build_index(b, dir.sub("b"), quiet());
  auto both = bm25_open_index(dir.sub("a") + "," + dir.sub("b"));
  EXPECT_EQ(both->size(), corpus_.size());
  expect_same_scores(*both, *single_);
  auto half = bm25_open_index(dir.sub("a"));
  auto r_half = half->search("w1 w2", 1), r_both = both->search("w1 w2", 40);
  ASSERT_FALSE(r_half.empty());
  for (auto& sp : r_both)  // the half alone has other statistics, so other scores
    if (sp.passage.id == r_half[0].passage.id) {
      EXPECT_GT(std::abs(sp.score - r_half[0].score), 1e-6);
    }
}

TEST_F(Shards, StreamedBuildWithSmallFlushesEqualsTheSingleIndex) {
  TempDir dir("stream");
  IndexOptions o = quiet();
  o.backend = IndexBackend::xapian;
  o.shards = 2;
  o.memory_mb = 1;  // flush every 1,000 passages a shard
  size_t next = 0;
  IndexStats st = bm25_build_index_stream(
      [&](std::vector<Passage>& batch) {
        if (next >= corpus_.size()) return false;
        batch.assign(corpus_.begin() + next, corpus_.begin() + std::min(corpus_.size(), next + 333));
        next += 333;
        return true;
      },
      dir.sub("index"), o);
  EXPECT_EQ(st.flush_passages, 1000u);
  EXPECT_EQ(st.passages, corpus_.size());
  auto r = bm25_open_index(dir.sub("index"));
  expect_same_ranking(*r, *single_);
}

TEST_F(Shards, DuplicatesAcrossBatchesAreSkipped) {
  TempDir dir("dups");
  std::vector<Passage> twice = corpus_;
  twice.insert(twice.end(), corpus_.begin(), corpus_.begin() + 500);
  IndexOptions o = quiet();
  o.shards = 3;
  IndexStats st = bm25_build_index(twice, dir.sub("index"), o);
  EXPECT_EQ(st.passages, corpus_.size());
  EXPECT_EQ(st.duplicates, 500u);
  expect_same_ranking(*bm25_open_index(dir.sub("index")), *single_);
}

// ---- missing and damaged shards

TEST_F(Shards, MissingOrDamagedShardIsNamed) {
  TempDir dir("damaged");
  IndexOptions o = quiet();
  o.backend = IndexBackend::xapian;
  o.shards = 2;
  bm25_build_index(corpus_, dir.sub("index"), o);
  std::string shard1 = dir.sub("index") + "/shard-001";

  fs::rename(shard1, dir.sub("aside"));
  std::string msg = error_of([&] { bm25_open_index(dir.sub("index")); });
  EXPECT_NE(msg.find("shard " + shard1 + " is missing"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  msg = error_of([&] { bm25_open_index(shard1); });  // named directly
  EXPECT_NE(msg.find("index folder " + shard1 + " does not exist"), std::string::npos) << msg;

  fs::rename(dir.sub("aside"), shard1);
  std::ofstream(shard1 + "/iamglass", std::ios::trunc) << "not a version file";
  msg = error_of([&] { bm25_open_index(dir.sub("index")); });
  EXPECT_NE(msg.find("shard " + shard1 + " is damaged"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;

  std::ofstream(dir.sub("index") + "/XAPIANDB", std::ios::trunc) << "auto shard-000\nremote :elsewhere:1\n";
  msg = error_of([&] { bm25_open_index(dir.sub("index")); });
  EXPECT_NE(msg.find(dir.sub("index") + "/XAPIANDB:2: not a shard line"), std::string::npos) << msg;
}

TEST(ShardSpec, BadSpecsAreNamed) {
  EXPECT_NE(error_of([] { bm25_open_index("a,,b"); }).find("an empty item"), std::string::npos);
  EXPECT_NE(error_of([] { bm25_open_index("tcp://localhost"); })
                .find("index tcp://localhost: a remote shard is tcp://HOST:PORT"),
            std::string::npos);
  EXPECT_NE(error_of([] { bm25_open_index("tcp://localhost:99999"); }).find("tcp://HOST:PORT"), std::string::npos);
  TempDir dir("spec");
  bm25_build_index({{"x", "Lone", "A single passage."}}, dir.sub("index"), quiet());
  std::string msg = error_of([&] { bm25_open_index(dir.sub("index") + "," + dir.sub("nope")); });
  EXPECT_NE(msg.find("index folder " + dir.sub("nope") + " does not exist"), std::string::npos) << msg;
}

// ---- remote shards

TEST_F(Shards, RemoteShardsRankAsTheSingleIndex) {
  if (!tcpsrv_available()) SKIP_REFERENCE_MISSING("xapian-tcpsrv is not installed (scripts/install-deps.sh installs it)");
  std::string d = dir_->sub("three");
  TcpServer s0(d + "/shard-000"), s1(d + "/shard-001"), s2(d + "/shard-002");
  auto remote = bm25_open_index(s0.spec() + "," + s1.spec() + "," + s2.spec(), 2);
  expect_same_ranking(*remote, *single_);
  auto mixed = bm25_open_index(s0.spec() + "," + d + "/shard-001," + s2.spec(), 1);  // local and remote together
  expect_same_ranking(*mixed, *single_);
  EXPECT_EQ(remote->search("z1 z2", 1)[0].passage.text, single_->search("z1 z2", 1)[0].passage.text);
}

TEST_F(Shards, RemoteConnectionClosedWhenIdleIsReopened) {
  if (!tcpsrv_available()) SKIP_REFERENCE_MISSING("xapian-tcpsrv is not installed (scripts/install-deps.sh installs it)");
  std::string d = dir_->sub("three");
  TcpServer s0(d + "/shard-000", 200);  // the server drops connections idle for 0.2 s
  auto r = bm25_open_index(s0.spec() + "," + d + "/shard-001," + d + "/shard-002", 1, 2000);
  auto before = r->search("w1 w2", 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto after = r->search("w1 w2", 6);
  EXPECT_EQ(ids_of(after), ids_of(before));
  EXPECT_EQ(ids_of(after), ids_of(single_->search("w1 w2", 6)));
}

TEST_F(Shards, RemoteShardNotBuiltServableIsNamed) {
  if (!tcpsrv_available()) SKIP_REFERENCE_MISSING("xapian-tcpsrv is not installed (scripts/install-deps.sh installs it)");
  TempDir dir("unservable");
  IndexOptions o = quiet();
  o.backend = IndexBackend::xapian;
  bm25_build_index(corpus_, dir.sub("index"), o);
  TcpServer s0(dir.sub("index"));
  std::string msg = error_of([&] { bm25_open_index(s0.spec()); });
  EXPECT_NE(msg.find("remote shard " + s0.spec() + " was built without --servable"), std::string::npos) << msg;
}

TEST_F(Shards, RemoteShardThatGoesAwayIsAnError) {
  if (!tcpsrv_available()) SKIP_REFERENCE_MISSING("xapian-tcpsrv is not installed (scripts/install-deps.sh installs it)");
  std::string d = dir_->sub("three");
  TcpServer s0(d + "/shard-000"), s1(d + "/shard-001");
  std::string spec = s0.spec() + "," + s1.spec() + "," + d + "/shard-002";
  auto r = bm25_open_index(spec, 1, 1000);
  ASSERT_FALSE(r->search("w1 w2", 4).empty());

  s1.stop();  // killed with its connections: refused at once
  std::string msg = error_of([&] { r->search("w3 w4", 4); });
  EXPECT_NE(msg.find("remote shard " + s1.spec() + " does not answer"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  msg = error_of([&] { bm25_open_index(spec, 1, 1000); });
  EXPECT_NE(msg.find("remote shard " + s1.spec() + " does not answer"), std::string::npos) << msg;
}

TEST_F(Shards, RemoteShardThatStopsAnsweringTimesOut) {
  if (!tcpsrv_available()) SKIP_REFERENCE_MISSING("xapian-tcpsrv is not installed (scripts/install-deps.sh installs it)");
  std::string d = dir_->sub("three");
  TcpServer s0(d + "/shard-000");
  auto r = bm25_open_index(s0.spec() + "," + d + "/shard-001," + d + "/shard-002", 1, 500);
  ASSERT_FALSE(r->search("w1 w2", 4).empty());
  s0.pause();  // alive but silent: only the timeout ends the wait
  std::string msg = error_of([&] { r->search("w3 w4", 4); });
  EXPECT_NE(msg.find("search in " + s0.spec()), std::string::npos) << msg;
  EXPECT_NE(msg.find("remote shard " + s0.spec() + " does not answer"), std::string::npos) << msg;
}

}  // namespace steper
