// The IRCoT-style multi-step loop (DESIGN.md sections 1-2) and its baselines, batched across questions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/generator.h"
#include "core/types.h"
#include "rag/prompt.h"
#include "retrieval/retriever.h"

namespace steper {

enum class RagMode { kMulti, kSingle, kNone };
RagMode rag_mode_from_string(const std::string& s);  // "multi" | "single" | "none"; throws Error otherwise
const char* rag_mode_name(RagMode m);

struct RagOptions {
  RagMode mode = RagMode::kMulti;
  int k = 4;                // passages per retrieval
  int max_steps = 10;       // sentences at most
  int max_passages = 15;    // accumulated passages at most
  PromptOptions prompt;
  int max_sentence_tokens = 48;
  int batch_size = 32;      // questions in flight together
  std::string prompt_prefix;  // e.g. few-shot demonstrations for a teacher, prepended to every prompt
};

// The state of one question in the loop.
struct RagState {
  const Question* question = nullptr;
  std::vector<Passage> passages;       // P<=s, accumulated, de-duplicated, capped
  std::vector<std::string> sentences;  // R<s
  Trace trace;
  bool done = false;
};

// Writes the next reasoning sentence for each state (all states are at some step, not necessarily the same).
class StepWriter {
 public:
  virtual ~StepWriter() = default;
  virtual std::vector<std::string> write(const std::vector<const RagState*>& states) = 0;
  virtual std::string name() const = 0;
};

// Any TextGenerator (local model folder, OpenAI-compatible server) writing one sentence per call.
class LmStepWriter : public StepWriter {
 public:
  LmStepWriter(TextGenerator& generator, const RagOptions& opts);
  std::vector<std::string> write(const std::vector<const RagState*>& states) override;
  std::string name() const override;
  std::string prompt_for(const RagState& state) const;  // exactly what the model sees
 private:
  TextGenerator& generator_;
  RagOptions opts_;
};

// Writes each step from the question's supporting facts, in order, then "So the answer is: <gold>."
// (the gold reader / gold-evidence teacher).
class GoldStepWriter : public StepWriter {
 public:
  std::vector<std::string> write(const std::vector<const RagState*>& states) override;
  std::string name() const override { return "gold"; }
};

// Runs the loop over all questions; on_done is called once per finished question, in completion order.
std::vector<Trace> rag_run(const std::vector<Question>& questions, Retriever* retriever, StepWriter& writer,
                           const RagOptions& opts, const std::function<void(const Trace&)>& on_done = {});

}  // namespace steper
