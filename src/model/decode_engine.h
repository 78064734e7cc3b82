// Continuous batching over one LanguageModel: requests join the running batch at the next step and leave
// when done; each row keeps its own key/value cache inside one left-padded batch (rows of different
// lengths, positions counted over each row's real tokens). Optional prefix reuse keeps the key/value
// cache of recent prompts and computes only what a new prompt adds past its longest shared token prefix.
// Torch-free: the state lives in decode_engine.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/model.h"

namespace steper {

// One token's log-probability under the model: log_softmax of its logits (before temperature and top-p),
// with the most likely tokens at its position.
struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // most likely first
};

struct DecodeResult {
  std::vector<int32_t> ids;   // new tokens (an end-of-sequence token is not included)
  std::vector<TokenLogprob> logprobs;         // one per id, when DecodeRequest::logprobs >= 0
  std::vector<TokenLogprob> prompt_logprobs;  // prompt tokens after the first, when prompt_logprobs >= 0
  std::string text;           // decoded ids, cut before the first stop string
  std::string finish_reason;  // "stop" | "length" | "cancelled"
  int prompt_tokens = 0;
  int reused_tokens = 0;  // prompt tokens whose key/value cache came from the prefix cache
  double queue_seconds = 0;  // from submit() to the step that admitted it
};

struct DecodeRequest {
  std::vector<int32_t> prompt;
  TokenGenerateOptions opts;  // max_tokens is always capped by the context; use_cache is ignored (always on)
  // Prefix reuse: the prompt's key/value cache is kept under this key (empty: nothing is kept); any
  // request may reuse any kept prompt's cache. release(key) drops it.
  std::string cache_key;
  // >= 0: each new token's log-probability with this many alternatives (DecodeResult::logprobs).
  int logprobs = -1;
  // >= 0: also each prompt token's after the first; such a prompt is computed whole (no prefix reuse),
  // and with opts.max_tokens 0 only scored.
  int prompt_logprobs = -1;
  // Called on the stepping thread for each kept token; piece = newly completed text (may be ""); return
  // false to cancel.
  std::function<bool(int32_t id, const std::string& piece)> on_token;
  std::function<void(const DecodeResult&)> on_done;  // called once, on the stepping thread
  // Called on the stepping thread before on_token with that token's log-probability (logprobs >= 0).
  std::function<void(const TokenLogprob&)> on_logprob;
  // Called on the stepping thread once the prompt is computed (prompt_logprobs filled), before its first token.
  std::function<void(const DecodeResult&)> on_prefill;
};

class DecodeEngine {
 public:
  DecodeEngine(LanguageModel& model, int max_batch);
  ~DecodeEngine();
  DecodeEngine(const DecodeEngine&) = delete;
  DecodeEngine& operator=(const DecodeEngine&) = delete;

  // Thread-safe; the request joins the running batch at the next step. Throws Error for an empty prompt,
  // a token outside the vocabulary, or a prompt that fills the context.
  uint64_t submit(DecodeRequest r);
  void cancel(uint64_t id);  // thread-safe; unknown or finished ids are ignored
  // One round on the calling thread: admit waiting requests (prefill), one token for every active
  // sequence, retire finished ones. Returns the sequences still active or waiting.
  int step();
  // Runs step() until nothing is active or waiting.
  void run();

  struct Stats {
    int active = 0, waiting = 0;
    uint64_t tokens_generated = 0;  // tokens kept in results (end-of-sequence tokens not counted)
    uint64_t steps = 0;             // rounds in which at least one sequence got a token
    uint64_t prompt_tokens = 0, reused_tokens = 0;  // of admitted prompts; reused: from the prefix cache
    size_t kept_prefixes = 0;                       // prompts whose cache the prefix cache holds
    // seconds spent prefilling admitted prompts, decoding the batch, and laying out the batch's caches
    // (merging admitted rows in, dropping finished ones)
    double prefill_seconds = 0, decode_seconds = 0, layout_seconds = 0;
    std::vector<uint64_t> batch_size_counts;  // [n] = rounds in which n sequences got a token; size max_batch + 1
  };
  Stats stats() const;  // thread-safe

  // Prefix reuse (off by default): kept prompts hold at most max_tokens tokens together, least recently
  // used dropped first (a prompt longer than that is not kept).
  void set_prefix_reuse(bool on, size_t max_tokens = 65536);
  void release(const std::string& cache_key);  // call from the stepping thread

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace steper
