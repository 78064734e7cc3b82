#include "serve/scheduler.h"

#include <cstdio>

namespace steper {

bool ScheduledJob::next_piece(std::string& piece) {
  std::unique_lock<std::mutex> lk(m_);
  cv_.wait(lk, [&] { return !pieces_.empty() || done_; });
  if (pieces_.empty()) return false;
  piece = std::move(pieces_.front());
  pieces_.pop_front();
  return true;
}

const DecodeResult& ScheduledJob::wait() {
  std::unique_lock<std::mutex> lk(m_);
  cv_.wait(lk, [&] { return done_; });
  return result_;
}

void ScheduledJob::cancel() {
  DecodeEngine* engine = nullptr;
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lk(m_);
    cancelled_ = true;  // also seen by on_token, should the engine not know the id yet
    engine = done_ ? nullptr : engine_;
    id = id_;
  }
  if (engine) engine->cancel(id);
}

Scheduler::Scheduler(LanguageModel& model, int max_batch, int max_queue)
    : model_(model), engine_(model, max_batch), capacity_(max_batch + max_queue) {
  if (max_batch < 1) throw Error("--max-batch must be at least 1, got " + std::to_string(max_batch));
  if (max_queue < 0) throw Error("--max-queue must be 0 or more, got " + std::to_string(max_queue));
  engine_.set_prefix_reuse(true);  // the steps of one /v1/ask question share their prompt's prefix
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lk(m_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::shared_ptr<ScheduledJob> Scheduler::submit(std::vector<int32_t> prompt, const TokenGenerateOptions& opts,
                                                bool stream, const std::string& cache_key) {
  auto job = std::make_shared<ScheduledJob>();
  job->stream_ = stream;
  {
    std::lock_guard<std::mutex> lk(m_);
    if (in_flight_ >= capacity_) throw QueueFull();
    ++in_flight_;
  }
  DecodeRequest r;
  r.prompt = std::move(prompt);
  r.opts = opts;
  r.cache_key = cache_key;
  r.on_token = [job](int32_t, const std::string& piece) {
    std::lock_guard<std::mutex> lk(job->m_);
    if (job->stream_ && !piece.empty()) {
      job->pieces_.push_back(piece);
      job->cv_.notify_all();
    }
    return !job->cancelled_;
  };
  r.on_done = [this, job](const DecodeResult& result) {
    {
      std::lock_guard<std::mutex> lk(m_);  // the place is free before the waiter wakes
      --in_flight_;
    }
    {
      std::lock_guard<std::mutex> lk(job->m_);
      job->result_ = result;
      job->done_ = true;
    }
    job->cv_.notify_all();
  };
  try {
    uint64_t id = engine_.submit(std::move(r));
    std::lock_guard<std::mutex> lk(job->m_);
    job->engine_ = &engine_;
    job->id_ = id;
  } catch (...) {
    std::lock_guard<std::mutex> lk(m_);
    --in_flight_;
    throw;
  }
  cv_.notify_all();
  return job;
}

void Scheduler::release(const std::string& cache_key) {
  std::lock_guard<std::mutex> lk(m_);
  releases_.push_back(cache_key);
}

void Scheduler::run() {
  while (true) {
    std::vector<std::string> releases;
    {
      std::unique_lock<std::mutex> lk(m_);
      cv_.wait(lk, [&] { return in_flight_ > 0 || stopping_; });
      if (in_flight_ == 0) return;  // stopping, nothing left
      releases.swap(releases_);
    }
    for (const auto& key : releases) engine_.release(key);
    try {
      engine_.step();
    } catch (const std::exception& e) {
      // Never expected (requests are checked when submitted); the server keeps serving.
      std::fprintf(stderr, "steper serve: decoding step failed: %s\n", e.what());
    }
  }
}

DecodeEngine::Stats Scheduler::stats() const { return engine_.stats(); }

int Scheduler::in_flight() const {
  std::lock_guard<std::mutex> lk(m_);
  return in_flight_;
}

std::vector<GenerateResult> ScheduledGenerator::generate(const std::vector<GenerateRequest>& requests) {
  std::vector<std::shared_ptr<ScheduledJob>> jobs;
  for (const auto& r : requests) {
    TokenGenerateOptions o;
    o.max_tokens = r.max_tokens;
    o.temperature = r.temperature;
    o.top_p = r.top_p;
    o.seed = r.seed;
    o.stop = r.stop;
    jobs.push_back(s_.submit(s_.model().tokenizer().encode(r.prompt, true), o, false, r.cache_key));
  }
  std::vector<GenerateResult> out(requests.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const DecodeResult& d = jobs[i]->wait();
    out[i].text = d.text;
    out[i].prompt_tokens = d.prompt_tokens;
    out[i].completion_tokens = static_cast<int>(d.ids.size());
  }
  return out;
}

}  // namespace steper
