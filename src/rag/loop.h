// The multi-step loop (docs/DESIGN.md sections 1-2) of either framework (rag/framework.h: IRCoT,
// Self-Ask) and its baselines, batched across questions, with the one gold reader.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/generator.h"
#include "core/types.h"
#include "rag/prompt.h"
#include "rag/prompt_fit.h"
#include "retrieval/retriever.h"

namespace steper {

struct RagOptions {
  LoopOptions loop;           // mode, k, max steps, max passages, passage words: recorded in every trace
  int max_sentence_tokens = 48;
  int batch_size = 32;        // questions in flight together
  std::string prompt_prefix;  // e.g. few-shot demonstrations for a teacher, prepended to every prompt
};

// Throws Error naming the flag (-k, --max-steps, --max-passages, --passage-words) when out of range.
void validate_loop_options(const LoopOptions& o);

// The state of one question in the loop.
struct RagState {
  const Question* question = nullptr;
  std::vector<Passage> shown;          // P<=s exactly as the prompt shows it (de-duplicated, capped, cut)
  std::vector<std::string> sentences;  // the texts of the steps so far: R<s (Self-Ask: the pairs so far)
  std::string follow_up;               // Self-Ask: the follow-up of this step once written (the answer phase)
  Trace trace;
  bool done = false;
};

// Adds a step's retrieved passages to what the prompt shows: new ids only, in retrieval order, while
// fewer than opts.max_passages are shown, each cut to opts.passage_words. Returns the passages added.
std::vector<Passage> show_passages(std::vector<Passage>& shown, const std::vector<ScoredPassage>& retrieved,
                                   const LoopOptions& opts);

// What a writer produced for one question at one step: the next sentence, or the end of the question
// without one (the reason is recorded in the trace, never written as an answer).
struct Written {
  std::string sentence;
  bool ended = false;
  TraceEnd end = TraceEnd::kAnswered;
  std::string detail;
  int fit_dropped = 0;  // the prompt's fit to the model's context (rag/prompt_fit.h; TraceStep's fields)
  int fit_words = 0;
  static Written next(std::string s) { return Written{std::move(s), false, TraceEnd::kAnswered, "", 0, 0}; }
  static Written stop(TraceEnd e, std::string why = "") { return Written{"", true, e, std::move(why), 0, 0}; }
};

// Writes the next reasoning sentence for each state (all states are at some step, not necessarily the same).
// Under Self-Ask a state without a follow-up gets its follow-up line ("Follow up: <f>" or the final answer),
// one with a follow-up its intermediate answer.
class StepWriter {
 public:
  virtual ~StepWriter() = default;
  virtual std::vector<Written> write(const std::vector<const RagState*>& states) = 0;
  virtual std::string name() const = 0;
  // Called once when a question is done: a writer may drop what it kept for it.
  virtual void finished(const RagState& state) { (void)state; }
};

// The first sentence of a generation: the text before the first newline, up to and including the first
// '.', '!' or '?' followed by whitespace or the end; trimmed.
std::string first_sentence(const std::string& text);

// Any TextGenerator (local model folder, OpenAI-compatible server) writing one sentence per call:
// prompt = prompt_prefix + step_prompt(loop, question, shown, sentences so far, follow_up) (rag/framework.h),
// stop "\n", at most max_sentence_tokens; written_text of the continuation is kept (empty when it is empty).
// With a generator that knows its context (TextGenerator::context_tokens), a prompt that would leave less
// than max_sentence_tokens is fitted (rag/prompt_fit.h: the earliest passages left out, the next one cut) and
// the fit is recorded in the step (TraceStep::fit_dropped, fit_words); when even no passage leaves room, the
// question ends with TraceEnd::kContextFull, or, when the prompt holds nothing but the question, Error.
// Each request names its question (cache_key "question:" and its address) so that a generator with prefix
// reuse computes only what the step adds to the question's previous prompt; finished releases it.
class LmStepWriter : public StepWriter {
 public:
  LmStepWriter(TextGenerator& generator, const RagOptions& opts);
  std::vector<Written> write(const std::vector<const RagState*>& states) override;
  std::string name() const override;
  void finished(const RagState& state) override;
  std::string prompt_for(const RagState& state) const;  // exactly what the model sees (fitted)
  struct StepPrompt {
    std::string text;
    PromptFit fit;
  };
  StepPrompt fitted_prompt(const RagState& state) const;
 private:
  TextGenerator& generator_;
  RagOptions opts_;
};

// The gold reader (and gold-evidence teacher): step s writes the sentence of the question's s-th
// supporting fact, then the answer step with the gold answer. Under Self-Ask step s first writes the
// follow-up of fact s (rag/gold_follow_up.h, worded by `seed`), then the fact's sentence as its
// intermediate answer, read under the same policy. What it may read is its policy:
//  - kRetrieved: only what the prompt shows. The s-th fact's paragraph must be among the passages shown
//    by step s (core/evidence.h); its sentence is taken from the question's context paragraph of that
//    title when the question has context, else from the shown passage's text. When the paragraph is not
//    shown, the question ends with TraceEnd::kEvidenceMissing.
//  - kOracle: copies each supporting sentence from the question's context whatever retrieval brought
//    (an upper bound, not a reader; `--model oracle`).
// A question without supporting facts ends with kNoSupportingFacts. A supporting fact beyond its
// paragraph, or naming no context paragraph, is a data error (Error naming the question).
enum class GoldPolicy { kRetrieved, kOracle };
class GoldReader : public StepWriter {
 public:
  explicit GoldReader(GoldPolicy policy = GoldPolicy::kRetrieved, uint64_t seed = 1) : policy_(policy), seed_(seed) {}
  std::vector<Written> write(const std::vector<const RagState*>& states) override;
  std::string name() const override { return policy_ == GoldPolicy::kOracle ? "oracle" : "gold"; }
 private:
  GoldPolicy policy_;
  uint64_t seed_;
};

// Fills the loop record of a trace made before traces recorded one: `given` becomes its options and each
// step's shown passages are rebuilt from what it retrieved, as the loop with `given` would have shown them.
void trace_assume_options(Trace& trace, const LoopOptions& given);

// Runs the loop over all questions; on_done is called once per finished question, in completion order.
// Each round advances every unfinished question in flight (at most opts.batch_size, refilled in question
// order as others finish) by one step, with one Retriever::search_batch call and one StepWriter::write
// call (Self-Ask: two, the follow-ups before retrieval and the intermediate answers after). Each step
// retrieves with step_query (rag/framework.h). A question ends at the answer step (answered, answer
// extracted, correct = exact match with a gold answer), at opts.max_steps sentences (Self-Ask: a follow-up
// beyond max_steps), at an empty sentence, at a repeated follow-up or a line that is neither a follow-up
// nor the final answer (Self-Ask), or when the writer ends it; trace.end says which. Traces come back in
// question order and record opts.loop and, per step, the passages shown.
std::vector<Trace> rag_run(const std::vector<Question>& questions, Retriever* retriever, StepWriter& writer,
                           const RagOptions& opts, const std::function<void(const Trace&)>& on_done = {});

}  // namespace steper
