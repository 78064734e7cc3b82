// What the reasoning loop needs from a language model: batched text continuation.
// Implemented by local model folders (model/) and OpenAI-compatible servers (teacher/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace steper {

struct GenerateRequest {
  std::string prompt;
  int max_tokens = 64;
  std::vector<std::string> stop;  // generation ends before the first stop string (not included)
  float temperature = 0.0f;       // 0 = greedy
  float top_p = 1.0f;
  uint64_t seed = 0;
  // Names the prompt's key/value cache for prefix reuse (a later prompt sharing its token prefix computes
  // only the rest); empty: nothing is kept. Generators without such a cache ignore it.
  std::string cache_key;
};

struct GenerateResult {
  std::string text;          // continuation, cut before a stop string
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

class TextGenerator {
 public:
  virtual ~TextGenerator() = default;
  // One result per request, in order. Requests may have different prompts and lengths.
  virtual std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) = 0;
  virtual std::string name() const = 0;
  // Drops what is kept under cache_key (the caller will not extend that prompt again).
  virtual void release(const std::string& cache_key) { (void)cache_key; }
  // The context in tokens (prompt and continuation together), and the tokens a prompt takes in it as
  // generate encodes it: what the loop fits its prompts to (rag/prompt_fit.h). 0 when unknown (a server
  // behind HTTP): prompts are then sent as they are.
  virtual int64_t context_tokens() const { return 0; }
  virtual int64_t prompt_tokens(const std::string& prompt) const {
    (void)prompt;
    return 0;
  }
};

}  // namespace steper
