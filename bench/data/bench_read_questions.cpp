// Reads a question file as `steper eval --data` and `steper index --data` do (defective records skipped) and
// prints the questions read, the seconds it took and the process's peak resident memory.
// Usage: bench_read_questions FILE
#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "data/formats.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  try {
    auto start = std::chrono::steady_clock::now();
    steper::QuestionFile f = steper::read_question_file(argv[1], false);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    size_t paragraphs = 0;
    for (const auto& q : f.questions) paragraphs += q.context.size();
    auto corpus_start = std::chrono::steady_clock::now();
    size_t passages = steper::corpus_from_contexts(f.questions).size();
    double corpus_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - corpus_start).count();
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    std::printf("%zu questions (%zu skipped), %zu context paragraphs read in %.1f s; corpus of %zu passages in "
                "%.1f s; peak resident memory %.0f MB\n",
                f.questions.size(), f.skipped.size(), paragraphs, seconds, passages, corpus_seconds,
                static_cast<double>(u.ru_maxrss) / 1024.0);
  } catch (const steper::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
