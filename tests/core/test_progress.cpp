// Progress lines on standard error: quiet is per thread, and without a terminal a bare final line does
// not repeat the line already written at the last item.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "core/progress.h"

namespace {

// Runs fn with standard error sent to a file; returns what was written.
template <class F>
std::string capture_stderr(F fn) {
  char path[] = "/tmp/steper-progress-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  std::fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  fn();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(path);
  return ss.str();
}

int count_lines(const std::string& s, const std::string& needle) {
  int n = 0;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

TEST(Progress, FinalLineIsNotRepeatedWithoutATerminal) {
  std::string out = capture_stderr([] {
    steper::Progress p("counting", 3, "things");
    p.add(3);  // reaches the total: drawn
    p.finish();
  });
  EXPECT_EQ(count_lines(out, "counting: 3/3 things"), 1) << out;
}

TEST(Progress, FinalLineWithNewWordsIsWritten) {
  std::string out = capture_stderr([] {
    steper::Progress p("writing", 2, "files");
    p.add(2);
    p.finish("written");
  });
  EXPECT_EQ(count_lines(out, "writing: 2/2 files"), 2) << out;
  EXPECT_NE(out.find("written"), std::string::npos) << out;
}

TEST(Progress, QuietIsPerThread) {
  std::string out = capture_stderr([] {
    std::thread t([] {
      steper::Progress::set_quiet(true);
      steper::Progress p("hushed", 1, "items");
      p.add(1);
      p.finish();
    });
    t.join();
    steper::Progress p("heard", 1, "items");
    p.add(1);
  });
  EXPECT_EQ(out.find("hushed"), std::string::npos) << out;
  EXPECT_NE(out.find("heard: 1/1 items"), std::string::npos) << out;
}

}  // namespace
