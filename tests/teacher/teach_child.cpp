// A teach run for the resume test, started as a child process and killed part-way:
//   teach_child BASE_URL OUT N
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fake_teacher_util.h"
#include "teacher/teach.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: teach_child BASE_URL OUT N\n");
    return 2;
  }
  auto questions = steper::testing_teacher::make_questions(std::atoi(argv[3]));
  steper::testing_teacher::StubRetriever retriever;
  steper::TeachConfig c;
  c.teacher = "openai";
  c.openai.base_url = argv[1];
  c.openai.model = "fake";
  c.openai.concurrency = 2;
  c.openai.backoff_s = 0.01;
  c.fewshot = "none";
  c.rag.batch_size = 2;
  c.out = argv[2];
  c.show_progress = false;
  steper::TeachResources r;
  r.questions = &questions;
  r.retriever = &retriever;
  steper::teach_run_with(c, r);
  return 0;
}
