// Server-sent events (the text/event-stream framing OpenAI streams use), and the part of a growing
// continuation that may be sent before the decoder has finished: text that could still turn out to be
// the start of a stop string is held back until it cannot.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace steper {

std::string sse_data(const nlohmann::json& event);  // "data: {...}\n\n"
std::string sse_done();                              // "data: [DONE]\n\n"

class StreamedText {
 public:
  explicit StreamedText(std::vector<std::string> stop) : stop_(std::move(stop)) {}
  // Adds a decoded piece; returns the new text that is safe to send now.
  std::string add(const std::string& piece);
  // The decoder's final text (cut before any stop string): returns what is still unsent.
  std::string finish(const std::string& final_text);

 private:
  size_t safe_end() const;
  std::vector<std::string> stop_;
  std::string text_;
  size_t sent_ = 0;
};

}  // namespace steper
