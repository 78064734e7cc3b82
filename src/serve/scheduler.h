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
  const DecodeResult& wait();  // blocks until the end
  void cancel();               // the client went away: the decoder drops the sequence (waiting or decoding)

 private:
  friend class Scheduler;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::string> pieces_;
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
  std::shared_ptr<ScheduledJob> submit(std::vector<int32_t> prompt, const TokenGenerateOptions& opts, bool stream,
                                       const std::string& cache_key = "");
  void release(const std::string& cache_key);  // thread-safe

  DecodeEngine::Stats stats() const;
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
  int64_t context_tokens() const override { return s_.model().context(); }
  int64_t prompt_tokens(const std::string& prompt) const override { return s_.model().prompt_tokens(prompt); }

 private:
  Scheduler& s_;
};

}  // namespace steper
