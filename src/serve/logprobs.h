// Token log-probabilities (model/decode_engine.h's TokenLogprob) as the OpenAI schemas list them:
// completions' {tokens, token_logprobs, top_logprobs, text_offset} and chat's {content: [{token,
// logprob, bytes, top_logprobs}]}. A token's string is its bytes, or "bytes:\xe2\x80" (as OpenAI writes
// them) for a token that is part of a UTF-8 character; text offsets count characters of the returned
// text, where special tokens take none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/decode_engine.h"
#include "text/tokenizer.h"

namespace steper {

// prompt_ids (echo; may be empty): the prompt's tokens come first, the first of them unscored (null),
// the rest from prompt_lps. offset (in, out): characters of the text before the first token listed.
// top_logprobs lists the k alternatives and the chosen token (as OpenAI's completions do).
nlohmann::json completion_logprobs(const Tokenizer& tok, const std::vector<int32_t>& prompt_ids,
                                   const std::vector<TokenLogprob>& prompt_lps, const std::vector<TokenLogprob>& lps,
                                   size_t& offset);

// The entries of chat's content list (top_logprobs: the k alternatives).
nlohmann::json chat_logprob_content(const Tokenizer& tok, const std::vector<TokenLogprob>& lps);

// How many of a continuation's tokens start before byte text_bytes of its text (a stop string cut the rest).
size_t tokens_within(const Tokenizer& tok, const std::vector<TokenLogprob>& lps, size_t text_bytes);

}  // namespace steper
