// The multi-step frameworks' rules, each in one place (docs/DESIGN.md sections 1-2): the prompt a writer
// sees at a step, what a generation contributes to a step, the query of a step and when a question ends.
// The loop, the LM and gold writers, the few-shot demonstrations and the examples builder all use these.
//
//   IRCoT    ("ircot", prompt format "ircot-v1"): passages, "Q: <q>\nA:", then " r1 r2 ...". A step
//            writes one sentence; the last is "So the answer is: <a>.".
//   Self-Ask ("self-ask", prompt format "self-ask-v1"): passages, "Question: <q>\nAre follow up questions
//            needed here: Yes.\n", then a line per step: "Follow up: <f>\nIntermediate answer: <i>\n";
//            the last step is "So the final answer is: <a>". A step is written in two phases: the
//            follow-up (or the final answer), then, after retrieval with the follow-up, its intermediate
//            answer.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

enum class Framework { kIrcot, kSelfAsk };

// The framework a loop runs (BugError for one validate_framework refuses).
Framework framework_of(const LoopOptions& loop);
// Sets loop.framework and its prompt format from a name: "ircot" | "self-ask"; Error naming --framework.
void set_framework(LoopOptions& loop, const std::string& name);
// Error naming the framework or the prompt format when either is unknown or they do not belong together.
void validate_framework(const LoopOptions& loop);

extern const char* const kFollowUpMarker;      // "Follow up: "
extern const char* const kIntermediateMarker;  // "Intermediate answer: "
extern const char* const kFinalAnswerMarker;   // "So the final answer is: "

// The prompt of a step (a few-shot prefix aside) from the passages shown by that step and the texts of the
// steps before it (IRCoT: R<s; Self-Ask: the pairs). For Self-Ask a non-empty `follow_up` is the
// intermediate-answer phase: the prompt then ends "Follow up: <follow_up>\nIntermediate answer:".
std::string step_prompt(const LoopOptions& loop, const std::string& question, const std::vector<Passage>& shown,
                        const std::vector<std::string>& steps, const std::string& follow_up = "");
// The text the steps add to a prompt: step_prompt(..., steps) == step_prompt(..., {}) + steps_text(steps)
// (the target of a training example).
std::string steps_text(const LoopOptions& loop, const std::vector<std::string>& steps);

// What a generation contributes: IRCoT, its first sentence; Self-Ask, its first line, trimmed.
std::string written_text(const LoopOptions& loop, const std::string& generation);

// The text of the step that answers: IRCoT "So the answer is: <a>."; Self-Ask "So the final answer is: <a>".
std::string answer_step(const LoopOptions& loop, const std::string& answer);
// Whether a step's text is the answering step, and its answer (a trailing period removed; "" when not).
bool is_answer_step(const LoopOptions& loop, const std::string& step);
std::string answer_of_step(const LoopOptions& loop, const std::string& step);

// Self-Ask: a step's text from its follow-up and intermediate answer, and the follow-up back ("" when the
// text is not a pair).
std::string self_ask_pair(const std::string& follow_up, const std::string& intermediate);
std::string self_ask_follow_up_of(const std::string& step);
// Self-Ask: the line a follow-up phase wrote: a follow-up question, the final answer, or neither.
struct FollowUpLine {
  enum Kind { kFollowUp, kFinal, kEmpty, kOther } kind = kEmpty;
  std::string text;  // the question (kFollowUp), the whole line otherwise
};
FollowUpLine parse_follow_up_line(const std::string& line);
// Self-Ask: why a question ends at a new follow-up, or kAnswered when it goes on: a follow-up the
// question already asked (verbatim, trimmed) ends it with kRepeatedFollowUp; one beyond max_steps
// follow-ups with kMaxSteps.
TraceEnd follow_up_end(const LoopOptions& loop, const std::vector<std::string>& steps, const std::string& follow_up);

// The query a step retrieves with ("" when it retrieves nothing). IRCoT: step 1 the cleaned question, later
// steps (multi) the cleaned last sentence unless it is a conclusion or the answer. Self-Ask: the cleaned
// follow-up (multi), the cleaned question at step 1 (single); never in mode none.
std::string step_query(const LoopOptions& loop, const std::string& question, const std::vector<std::string>& steps,
                       const std::string& follow_up);

}  // namespace steper
