// The request scheduler of `steper serve`: one stepping thread drives DecodeEngine::step() while HTTP
// threads submit requests and wait for them (or read their pieces as they are decoded). Requests join
// the running decode batch at the next step; at most max_batch decode at once and at most max_queue
// wait for a place (a full queue is QueueFull, answered 503). Also the scheduler as a TextGenerator,
// so the multi-step loop's writer decodes in the same batches as the OpenAI endpoints.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/generator.h"
#include "model/decode_engine.h"
#include "model/model.h"
#include "serve/metrics.h"

namespace steper {

class QueueFull : public Error {
 public:
  QueueFull() : Error("the request queue is full; retry later") {}
};

// One submitted request, shared by the HTTP thread that waits on it and the stepping thread.
class ScheduledJob {
 public:
  // Blocks until a decoded piece (true) or the end (false, then result() is ready). Pieces are kept
  // only for jobs submitted with stream = true.
  bool next_piece(std::string& piece);
  // The same, with the log-probabilities of the tokens the piece completes (submitted with logprobs >= 0;
  // a token whose text is not complete yet comes with a later piece).
  bool next_piece(std::string& piece, std::vector<TokenLogprob>& logprobs);
  // Blocks until the prompt is computed (or the end): its tokens' log-probabilities (prompt_logprobs >= 0).
  std::vector<TokenLogprob> prompt_logprobs();
  const DecodeResult& wait();  // blocks until the end
  bool wait_for(double seconds);  // true when it ended within that time
  void cancel();               // the client went away: the decoder drops the sequence (waiting or decoding)

 private:
  friend class Scheduler;
  std::mutex m_;
  std::condition_variable cv_;
  struct Piece {
    std::string text;
    std::vector<TokenLogprob> logprobs;
  };
  std::deque<Piece> pieces_;
  std::vector<TokenLogprob> unsent_;  // log-probabilities not yet in a piece
  double submitted_ = 0, last_token_ = 0;  // steady-clock seconds
  std::vector<TokenLogprob> prompt_lps_;
  bool prefilled_ = false;
  bool stream_ = false;
  bool done_ = false;
  bool cancelled_ = false;
  DecodeEngine* engine_ = nullptr;  // set once submitted
  uint64_t id_ = 0;
  DecodeResult result_;
};

class Scheduler {
 public:
  Scheduler(LanguageModel& model, int max_batch, int max_queue);
  ~Scheduler();  // finishes the requests in flight, then stops the stepping thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Thread-safe. Throws QueueFull when max_queue requests already wait, Error for a prompt the engine
  // refuses (empty, outside the vocabulary, filling the context).
  // cache_key: prefix reuse (DecodeRequest::cache_key); release(key) drops it at the next step.
  // logprobs, prompt_logprobs: DecodeRequest's.
  std::shared_ptr<ScheduledJob> submit(std::vector<int32_t> prompt, const TokenGenerateOptions& opts, bool stream,
                                       const std::string& cache_key = "", int logprobs = -1, int prompt_logprobs = -1);
  // Throws QueueFull unless `count` more requests have a place now (a request of n choices takes n).
  void check_room(int count) const;
  void release(const std::string& cache_key);  // thread-safe

  DecodeEngine::Stats stats() const;
  const TokenTimings& timings() const { return timings_; }
  int in_flight() const;  // submitted and not finished
  LanguageModel& model() { return model_; }

 private:
  void run();
  LanguageModel& model_;
  DecodeEngine engine_;
  const int capacity_;  // max_batch + max_queue
  mutable std::mutex m_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  std::vector<std::string> releases_;  // applied by the stepping thread
  bool stopping_ = false;
  TokenTimings timings_;
  std::thread thread_;
};

// The scheduler as a text generator (for LmStepWriter): prompts are encoded as LanguageModel::generate
// encodes them, every request of a call is submitted at once and the call waits for all of them.
class ScheduledGenerator : public TextGenerator {
 public:
  explicit ScheduledGenerator(Scheduler& s) : s_(s) {}
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override;
  std::string name() const override { return s_.model().name(); }
  void release(const std::string& cache_key) override { s_.release(cache_key); }

 private:
  Scheduler& s_;
};

}  // namespace steper
