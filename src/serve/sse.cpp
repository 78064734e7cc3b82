#include "serve/sse.h"

#include <algorithm>

namespace steper {

std::string sse_data(const nlohmann::json& event) {
  return "data: " + event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

std::string sse_done() { return "data: [DONE]\n\n"; }

// The end of the text that no stop string can reach back into: before the first whole stop string, and
// before the longest tail of the text that is a proper prefix of a stop string.
size_t StreamedText::safe_end() const {
  size_t end = text_.size();
  for (const auto& s : stop_) {
    if (s.empty()) continue;
    size_t at = text_.find(s);
    if (at != std::string::npos) end = std::min(end, at);
    for (size_t n = std::min(s.size() - 1, text_.size()); n > 0; --n)
      if (text_.compare(text_.size() - n, n, s, 0, n) == 0) {
        end = std::min(end, text_.size() - n);
        break;
      }
  }
  return end;
}

std::string StreamedText::add(const std::string& piece) {
  text_ += piece;
  size_t end = safe_end();
  if (end <= sent_) return "";
  std::string out = text_.substr(sent_, end - sent_);
  sent_ = end;
  return out;
}

std::string StreamedText::finish(const std::string& final_text) {
  if (final_text.size() <= sent_) return "";
  std::string out = final_text.substr(sent_);
  sent_ = final_text.size();
  return out;
}

}  // namespace steper
