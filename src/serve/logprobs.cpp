#include "serve/logprobs.h"

namespace steper {

using nlohmann::json;

namespace {

size_t utf8_chars(const std::string& bytes) {
  size_t n = 0;
  for (unsigned char b : bytes) n += (b & 0xC0) != 0x80;
  return n;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// A token's string: its bytes, or "bytes:\xNN..." (as OpenAI writes them) when they are not whole UTF-8.
std::string shown(const Tokenizer& tok, int32_t id) {
  const std::string b = tok.token_bytes(id);
  if (valid_utf8(b)) return b;
  static const char* hex = "0123456789abcdef";
  std::string out = "bytes:";
  for (unsigned char c : b) out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
  return out;
}

size_t text_chars(const Tokenizer& tok, int32_t id) { return tok.is_special(id) ? 0 : utf8_chars(tok.token_bytes(id)); }

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

void add_completion_token(const Tokenizer& tok, json& out, int32_t id, const TokenLogprob* lp, size_t& offset) {
  out["tokens"].push_back(shown(tok, id));
  out["text_offset"].push_back(offset);
  offset += text_chars(tok, id);
  if (!lp) {
    out["token_logprobs"].push_back(nullptr);
    out["top_logprobs"].push_back(nullptr);
    return;
  }
  out["token_logprobs"].push_back(lp->logprob);
  json top = json::object();
  for (const auto& [alt, logprob] : lp->top) top[shown(tok, alt)] = logprob;
  if (!top.contains(shown(tok, id))) top[shown(tok, id)] = lp->logprob;
  out["top_logprobs"].push_back(std::move(top));
}

}  // namespace

json completion_logprobs(const Tokenizer& tok, const std::vector<int32_t>& prompt_ids,
                         const std::vector<TokenLogprob>& prompt_lps, const std::vector<TokenLogprob>& lps,
                         size_t& offset) {
  json out{{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
           {"text_offset", json::array()}};
  for (size_t i = 0; i < prompt_ids.size(); ++i)
    add_completion_token(tok, out, prompt_ids[i], i > 0 && i - 1 < prompt_lps.size() ? &prompt_lps[i - 1] : nullptr, offset);
  for (const TokenLogprob& lp : lps) add_completion_token(tok, out, lp.id, &lp, offset);
  return out;
}

json chat_logprob_content(const Tokenizer& tok, const std::vector<TokenLogprob>& lps) {
  json content = json::array();
  for (const TokenLogprob& lp : lps) {
    json top = json::array();
    for (const auto& [alt, logprob] : lp.top)
      top.push_back({{"token", shown(tok, alt)}, {"logprob", logprob}, {"bytes", bytes_of(shown(tok, alt))}});
    content.push_back({{"token", shown(tok, lp.id)}, {"logprob", lp.logprob}, {"bytes", bytes_of(shown(tok, lp.id))},
                       {"top_logprobs", std::move(top)}});
  }
  return content;
}

size_t tokens_within(const Tokenizer& tok, const std::vector<TokenLogprob>& lps, size_t text_bytes) {
  size_t at = 0, n = 0;
  for (; n < lps.size() && at < text_bytes; ++n) at += tok.is_special(lps[n].id) ? 0 : tok.token_bytes(lps[n].id).size();
  return n;
}

}  // namespace steper
