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

// The first sentence of a generation: the text before the first newline, up to and including the first
// '.', '!' or '?' followed by whitespace or the end; trimmed.
std::string first_sentence(const std::string& text);

// Any TextGenerator (local model folder, OpenAI-compatible server) writing one sentence per call:
// prompt = prompt_prefix + build_prompt(question, passages) + join_sentences(sentences so far), stop "\n",
// at most max_sentence_tokens; the first sentence of the continuation is kept (empty when it is empty).
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
// (the gold reader / gold-evidence teacher). Step s writes sentence sent_id of the s-th supporting fact,
// taken from the question's context paragraph of that title, or, without context, from the accumulated
// passage of that title. Throws Error naming the question when it has no supporting facts or the
// sentence cannot be found.
class GoldStepWriter : public StepWriter {
 public:
  std::vector<std::string> write(const std::vector<const RagState*>& states) override;
  std::string name() const override { return "gold"; }
};

// Runs the loop over all questions; on_done is called once per finished question, in completion order.
// Each round advances every unfinished question in flight (at most opts.batch_size, refilled in question
// order as others finish) by one step, with one Retriever::search_batch call and one StepWriter::write
// call. Step 1 retrieves with the cleaned question; later steps (multi mode) with the cleaned last
// sentence unless it is a conclusion (ircot_is_conclusion). A question ends at an answer sentence
// (answered, answer extracted, correct = exact match with a gold answer), at opts.max_steps sentences,
// or at an empty sentence (the same prompt would only produce it again). Traces come back in question order.
std::vector<Trace> rag_run(const std::vector<Question>& questions, Retriever* retriever, StepWriter& writer,
                           const RagOptions& opts, const std::function<void(const Trace&)>& on_done = {});

}  // namespace steper
