// A model behind an OpenAI-compatible server in the loop, the same for `teach --teacher openai` and for
// `eval`/`ask --model URL`: one client (teacher/openai.h: its retries, timeouts and requests in flight).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/types.h"
#include "rag/loop.h"
#include "teacher/openai.h"

namespace steper {

// LmStepWriter over the client; a question whose request failed after all attempts ends with
// TraceEnd::kRequestFailed (the failure as its detail) instead of an empty sentence.
class OpenAIStepWriter : public StepWriter {
 public:
  OpenAIStepWriter(OpenAIGenerator& generator, const RagOptions& opts) : generator_(generator), inner_(generator, opts) {}
  std::vector<Written> write(const std::vector<const RagState*>& states) override;
  std::string name() const override { return inner_.name(); }
  void finished(const RagState& state) override { inner_.finished(state); }

 private:
  OpenAIGenerator& generator_;
  LmStepWriter inner_;
};

struct ServedModel {
  std::unique_ptr<OpenAIGenerator> generator;
  std::unique_ptr<OpenAIStepWriter> writer;
};
// The client and its writer. `o` gets the chat system prompt of the loop's framework when it has none;
// `rag` gets the few-shot prefix `fewshot` (teacher/fewshot.h: auto, by the questions' type; none; a type;
// a file) unless it holds one, and at least o.concurrency questions in flight.
ServedModel served_model(OpenAIOptions o, RagOptions& rag, const std::string& fewshot,
                         const std::vector<Question>& questions);

}  // namespace steper
