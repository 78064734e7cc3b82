// POST /v1/ask: one question through the multi-step loop (rag/loop.h), the request's fields checked
// (question, mode, k, max_steps, max_passages, passage_words, stream), the steps reported as the loop
// records them and the whole trace returned as core/trace_json writes it.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/generator.h"
#include "rag/loop.h"
#include "retrieval/retriever.h"

namespace steper {

struct AskCall {
  Question question;
  RagOptions rag;
  bool stream = false;
};

// `defaults`: the server's loop options (its flags). Throws Error naming the field; a mode that
// retrieves on a server without an index is an Error too.
AskCall parse_ask_call(const nlohmann::json& body, const RagOptions& defaults, bool has_index);

// What run_ask throws when on_step says the client is gone: the loop stops before its next step.
struct AskAbandoned {};

// Runs the loop with an LmStepWriter over `generator`; on_step gets each step's JSON (as the trace holds
// it) once the loop has recorded it, before the next step is written, and returns false when nobody
// reads any more (run_ask then throws AskAbandoned). Returns the loop's trace.
using AskStepSink = std::function<bool(size_t index, const nlohmann::json& step)>;
Trace run_ask(const AskCall& call, Retriever* retriever, TextGenerator& generator, const AskStepSink& on_step = {});

}  // namespace steper
