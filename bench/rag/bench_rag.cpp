// Multi-step evaluation speed on a generated world with a from-scratch tiny model: questions/s and the
// share of time spent in retrieval and in the writer (split into prefill and decoding by replaying the
// same prompts with one new token), one question at a time vs batched, and batched with prefix reuse
// (the key/value cache of each question's previous prompt) off and on (alternating, best of --reps).
//
// usage: bench_rag [--questions N] [--steps S] [--batch B] [--sentence-tokens N] [--reps R] [--size tiny|small]
//                  [--device cpu|cuda] [--work DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/blas_kernels.h"
#include "core/io.h"
#include "core/progress.h"
#include "data/world.h"
#include "model/decode_engine.h"
#include "model/model.h"
#include "rag/loop.h"
#include "retrieval/retriever.h"

namespace steper {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ---- Timing wrappers

class TimedRetriever : public Retriever {
 public:
  explicit TimedRetriever(Retriever& inner) : inner_(inner) {}
  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    double t = now_seconds();
    auto out = inner_.search_batch(queries, k);
    seconds += now_seconds() - t;
    calls += 1;
    return out;
  }
  size_t size() const override { return inner_.size(); }
  double seconds = 0;
  size_t calls = 0;

 private:
  Retriever& inner_;
};

class TimedGenerator : public TextGenerator {
 public:
  explicit TimedGenerator(TextGenerator& inner) : inner_(inner) {}
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override {
    double t = now_seconds();
    auto out = inner_.generate(requests);
    seconds += now_seconds() - t;
    batches.push_back(requests);
    for (const auto& r : out) {
      prompt_tokens += r.prompt_tokens;
      completion_tokens += r.completion_tokens;
    }
    return out;
  }
  std::string name() const override { return inner_.name(); }
  void release(const std::string& cache_key) override { inner_.release(cache_key); }
  double seconds = 0;
  long prompt_tokens = 0, completion_tokens = 0;
  std::vector<std::vector<GenerateRequest>> batches;

 private:
  TextGenerator& inner_;
};

struct RunStats {
  int batch = 0;
  size_t questions = 0, steps = 0;
  double total = 0, retrieval = 0, writer = 0, prefill = 0;
  long prompt_tokens = 0, completion_tokens = 0, reused_tokens = 0;
  bool reuse = false;
  double engine_prefill = 0, engine_decode = 0, engine_layout = 0;  // the decode engine's own split
  std::vector<Trace> traces;
};

RunStats bench_run(const std::vector<Question>& questions, Retriever& base, LanguageModel& lm, RagOptions opts,
                   int batch, bool reuse) {
  opts.batch_size = batch;
  lm.set_prefix_reuse(reuse);
  const DecodeEngine::Stats before = lm.engine().stats();
  TimedRetriever retriever(base);
  TimedGenerator generator(lm);
  LmStepWriter writer(generator, opts);
  double t = now_seconds();
  std::vector<Trace> traces = rag_run(questions, &retriever, writer, opts);
  RunStats s;
  s.total = now_seconds() - t;
  s.batch = batch;
  s.questions = questions.size();
  for (const auto& tr : traces) s.steps += tr.steps.size();
  s.retrieval = retriever.seconds;
  s.writer = generator.seconds;
  s.prompt_tokens = generator.prompt_tokens;
  s.completion_tokens = generator.completion_tokens;
  s.reuse = reuse;
  const DecodeEngine::Stats after = lm.engine().stats();
  s.reused_tokens = static_cast<long>(after.reused_tokens - before.reused_tokens);
  s.engine_prefill = after.prefill_seconds - before.prefill_seconds;
  s.engine_decode = after.decode_seconds - before.decode_seconds;
  s.engine_layout = after.layout_seconds - before.layout_seconds;
  s.traces = std::move(traces);
  // prefill: the same batches again, one new token each (with what they reused, kept under their own keys)
  double p = now_seconds();
  for (auto reqs : generator.batches) {
    for (auto& r : reqs) r.max_tokens = 1;
    lm.generate(reqs);
  }
  s.prefill = now_seconds() - p;
  for (const auto& reqs : generator.batches)
    for (const auto& r : reqs) lm.release(r.cache_key);
  return s;
}

void print_stats(const RunStats& s) {
  double decode = s.writer > s.prefill ? s.writer - s.prefill : 0.0;
  double other = s.total - s.writer - s.retrieval;
  std::printf("batch %3d, prefix reuse %-3s: %6.2f questions/s  %6.1f steps/s  %7.0f prompt tok/s  %6.0f new tok/s | "
              "retrieval %5.1f%%  writer %5.1f%% (prefill ~%5.1f%%, decoding ~%5.1f%%)  loop %4.1f%%  [%.1f s]  "
              "%.0f%% of prompt tokens reused\n",
              s.batch, s.reuse ? "on" : "off", s.questions / s.total, s.steps / s.total, s.prompt_tokens / s.writer,
              s.completion_tokens / s.writer, 100 * s.retrieval / s.total, 100 * s.writer / s.total,
              100 * s.prefill / s.total, 100 * decode / s.total, 100 * other / s.total, s.total,
              100.0 * s.reused_tokens / std::max(1L, s.prompt_tokens));
  std::printf("           engine: prefill %5.1f%%  decoding %5.1f%%  batch layout %5.1f%%\n",
              100 * s.engine_prefill / s.total, 100 * s.engine_decode / s.total, 100 * s.engine_layout / s.total);
}

}  // namespace
}  // namespace steper

int main(int argc, char** argv) {
  using namespace steper;
  blas_reexec_if_generic(argv);             // the kernels and
  setenv("OPENBLAS_NUM_THREADS", "2", 0);  // the threads `steper eval` runs with (src/cli/main.cpp)
  int n_questions = 48, steps = 5, batch = 16, sentence_tokens = 32, reps = 3;
  std::string size = "tiny", device = "cpu", work = "/tmp/steper-bench-rag";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--questions") n_questions = std::atoi(argv[i + 1]);
    else if (a == "--steps") steps = std::atoi(argv[i + 1]);
    else if (a == "--batch") batch = std::atoi(argv[i + 1]);
    else if (a == "--sentence-tokens") sentence_tokens = std::atoi(argv[i + 1]);
    else if (a == "--reps") reps = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--size") size = argv[i + 1];
    else if (a == "--device") device = argv[i + 1];
    else if (a == "--work") work = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  Progress::set_quiet(true);
  WorldOptions wo;
  wo.seed = 7;
  wo.n_train = 200;
  wo.n_dev = 0;
  wo.n_test = n_questions;
  World world = world_generate(wo);
  make_dirs(work);
  IndexOptions io;
  io.show_progress = false;
  bm25_build_index(world.corpus, work + "/index", io);
  std::vector<std::string> texts;
  for (const auto& p : world.corpus) texts.push_back(p.title + "\n" + p.text);
  init_model_folder(texts, work + "/model", size, 1);
  std::unique_ptr<Retriever> retriever = bm25_open_index(work + "/index");
  std::unique_ptr<LanguageModel> lm = LanguageModel::load(work + "/model", device);

  RagOptions opts;
  opts.loop.mode = RagMode::kMulti;
  opts.loop.k = 4;
  opts.loop.max_steps = steps;
  opts.loop.max_passages = 15;
  opts.max_sentence_tokens = sentence_tokens;  // an untrained model writes every sentence to this length
  std::printf("multi-step eval, %s model (%s), %zu passages, %d questions, %d steps, k=%d, %d tokens/sentence\n",
              size.c_str(), device.c_str(), world.corpus.size(), n_questions, steps, opts.loop.k, opts.max_sentence_tokens);
  // warm-up (allocators, thread pools)
  bench_run(std::vector<Question>(world.test.begin(), world.test.begin() + std::min<size_t>(2, world.test.size())),
            *retriever, *lm, opts, 2, true);
  print_stats(bench_run(world.test, *retriever, *lm, opts, 1, false));
  // off and on alternate, best of `reps` each, so that a busy machine's load falls on both alike
  RunStats plain, reusing;
  for (int r = 0; r < reps; ++r) {
    RunStats a = bench_run(world.test, *retriever, *lm, opts, batch, false);
    if (r == 0 || a.total < plain.total) plain = std::move(a);
    RunStats b = bench_run(world.test, *retriever, *lm, opts, batch, true);
    if (r == 0 || b.total < reusing.total) reusing = std::move(b);
  }
  print_stats(plain);
  print_stats(reusing);
  size_t same = 0, total_steps = 0;
  for (size_t i = 0; i < plain.traces.size(); ++i) {
    bool eq = plain.traces[i].steps.size() == reusing.traces[i].steps.size();
    for (size_t j = 0; eq && j < plain.traces[i].steps.size(); ++j)
      eq = plain.traces[i].steps[j].sentence == reusing.traces[i].steps[j].sentence;
    same += eq;
  }
  for (const auto& t : plain.traces) total_steps += t.steps.size();
  std::printf("prefix reuse: %.2fx the questions/s at batch %d; %zu/%zu questions wrote the same steps; "
              "%.1f steps per question\n",
              plain.total / reusing.total, batch, same, plain.traces.size(), double(total_steps) / plain.traces.size());
  return 0;
}
