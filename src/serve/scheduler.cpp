#include "serve/scheduler.h"

#include <chrono>
#include <cstdio>

namespace steper {

namespace {
double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

bool ScheduledJob::next_piece(std::string& piece) {
  std::vector<TokenLogprob> unused;
  return next_piece(piece, unused);
}

bool ScheduledJob::next_piece(std::string& piece, std::vector<TokenLogprob>& logprobs) {
  std::unique_lock<std::mutex> lk(m_);
  cv_.wait(lk, [&] { return !pieces_.empty() || done_; });
  if (pieces_.empty()) return false;
  piece = std::move(pieces_.front().text);
  logprobs = std::move(pieces_.front().logprobs);
  pieces_.pop_front();
  return true;
}

std::vector<TokenLogprob> ScheduledJob::prompt_logprobs() {
  std::unique_lock<std::mutex> lk(m_);
  cv_.wait(lk, [&] { return prefilled_ || done_; });
  return prefilled_ ? prompt_lps_ : result_.prompt_logprobs;
}

bool ScheduledJob::wait_for(double seconds) {
  std::unique_lock<std::mutex> lk(m_);
  return cv_.wait_for(lk, std::chrono::duration<double>(seconds), [&] { return done_; });
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

void Scheduler::check_room(int count) const {
  std::lock_guard<std::mutex> lk(m_);
  if (in_flight_ + count > capacity_) throw QueueFull();
}

std::shared_ptr<ScheduledJob> Scheduler::submit(std::vector<int32_t> prompt, const TokenGenerateOptions& opts,
                                                bool stream, const std::string& cache_key, int logprobs,
                                                int prompt_logprobs) {
  auto job = std::make_shared<ScheduledJob>();
  job->stream_ = stream;
  job->submitted_ = seconds_now();
  {
    std::lock_guard<std::mutex> lk(m_);
    if (in_flight_ >= capacity_) throw QueueFull();
    ++in_flight_;
  }
  DecodeRequest r;
  r.prompt = std::move(prompt);
  r.opts = opts;
  r.cache_key = cache_key;
  r.logprobs = logprobs;
  r.prompt_logprobs = prompt_logprobs;
  r.on_prefill = [job](const DecodeResult& partial) {
    {
      std::lock_guard<std::mutex> lk(job->m_);
      job->prompt_lps_ = partial.prompt_logprobs;
      job->prefilled_ = true;
    }
    job->cv_.notify_all();
  };
  r.on_logprob = [job](const TokenLogprob& lp) {
    std::lock_guard<std::mutex> lk(job->m_);
    if (job->stream_) job->unsent_.push_back(lp);
  };
  r.on_token = [this, job](int32_t, const std::string& piece) {
    const double now = seconds_now();
    std::lock_guard<std::mutex> lk(job->m_);
    if (job->last_token_ == 0) timings_.first_token.observe(now - job->submitted_);
    else timings_.between_tokens.observe(now - job->last_token_);
    job->last_token_ = now;
    if (job->stream_ && !piece.empty()) {
      job->pieces_.push_back({piece, std::move(job->unsent_)});
      job->unsent_.clear();
      job->cv_.notify_all();
    }
    return !job->cancelled_;
  };
  r.on_done = [this, job](const DecodeResult& result) {
    if (result.finish_reason != "cancelled" || result.queue_seconds > 0) timings_.queue.observe(result.queue_seconds);
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
