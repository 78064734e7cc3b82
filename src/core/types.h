// The data types every pipeline stage shares: passages, questions, traces, training examples.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace steper {

struct Passage {
  std::string id;
  std::string title;
  std::string text;
};

struct ScoredPassage {
  Passage passage;
  double score = 0.0;
};

// One supporting fact: sentence `sent_id` of the paragraph titled `title` (HotpotQA convention).
struct SupportingFact {
  std::string title;
  int sent_id = 0;
};

// A paragraph of a question's own context, split into sentences (HotpotQA convention).
struct ContextParagraph {
  std::string title;
  std::vector<std::string> sentences;
};

struct Question {
  std::string id;
  std::string question;
  std::vector<std::string> answers;  // answers[0] is the canonical answer, the rest are aliases
  std::string type;                  // bridge, comparison, compositional, inference, ...
  int hops = 0;                      // number of supporting paragraphs; 0 when unknown
  std::vector<SupportingFact> supporting_facts;  // in reasoning order when the source has one
  std::vector<ContextParagraph> context;         // empty when the data set has none
};

// The options a run of the loop was made with; a trace records them, and training examples are built with
// them (docs/DESIGN.md section 3). Every command that runs the loop takes them as the same flags.
enum class RagMode { kMulti, kSingle, kNone };  // retrieve every step, once, never
RagMode rag_mode_from_string(const std::string& s);  // "multi" | "single" | "none"; throws Error naming --mode
const char* rag_mode_name(RagMode m);

struct LoopOptions {
  std::string framework = "ircot";     // --framework: ircot | self-ask (rag/framework.h)
  std::string prompt_format = "ircot-v1";  // the framework's prompt format: ircot-v1 | self-ask-v1
  RagMode mode = RagMode::kMulti;      // --mode
  int k = 4;                           // -k: passages per retrieval
  int max_steps = 10;                  // --max-steps: sentences at most
  int max_passages = 15;               // --max-passages: accumulated passages at most
  int passage_words = 350;             // --passage-words: each passage cut to this many words
  bool operator==(const LoopOptions& o) const {
    return framework == o.framework && prompt_format == o.prompt_format && mode == o.mode && k == o.k &&
           max_steps == o.max_steps && max_passages == o.max_passages && passage_words == o.passage_words;
  }
  bool operator!=(const LoopOptions& o) const { return !(*this == o); }
};

// One step of the multi-step loop: the query sent to retrieval, what came back, what the writer's prompt
// gained from it, the sentence written.
struct TraceStep {
  std::string query;                       // empty when the step did not retrieve
  std::vector<ScoredPassage> retrieved;    // what this step's retrieval returned, whole
  std::string sentence;                    // the reasoning sentence written at this step (Self-Ask: the pair
                                           // "Follow up: f\nIntermediate answer: i", or the final answer)
  // The passages this step added to the prompt, in prompt order, exactly as the prompt holds them (new
  // ids only, within the cap, cut to passage_words). The prompt of step s shows shown[1..s] concatenated.
  std::vector<Passage> shown;
  // When the step's prompt was fitted to the model's context (rag/prompt_fit.h): the earliest passages of
  // P<=s it left out, and the words it kept of the passage after them (0: that passage whole). The passages
  // of the step's prompt are P<=s less the first `fit_dropped`, the next one cut to `fit_words` words.
  int fit_dropped = 0;
  int fit_words = 0;
  bool fitted() const { return fit_dropped > 0 || fit_words > 0; }
};

// Why a question's loop ended (a structured reason, never text in the answer).
enum class TraceEnd {
  kAnswered,          // an answer sentence was written
  kMaxSteps,          // --max-steps sentences without an answer
  kEmptySentence,     // the writer wrote nothing (the same prompt would only produce it again)
  kEvidenceMissing,   // the gold reader's next supporting passage was not among the passages shown
  kNoSupportingFacts, // the gold reader was given a question without supporting facts
  kRequestFailed,     // the teacher's request failed after all retries
  kRepeatedFollowUp,  // Self-Ask: a follow-up question the question had already asked
  kNoFollowUp,        // Self-Ask: a line that is neither a follow-up question nor the final answer
  kContextFull,       // the question and its steps so far leave the model's context no room for another
};
const char* trace_end_name(TraceEnd e);                      // "answered", "max_steps", ...
bool trace_end_from_name(const std::string& name, TraceEnd* out);  // false when unknown

// A whole run of the loop on one question (teacher trace or evaluation prediction).
struct Trace {
  std::string id;
  std::string question;
  std::vector<std::string> answers;  // gold answers with aliases
  std::string type;
  int hops = 0;
  std::string teacher;               // who wrote the sentences (gold, a model folder, a server model)
  LoopOptions loop;                  // the options the loop ran with
  bool has_loop = false;             // set by the loop; false for a trace made before traces recorded them
  std::vector<TraceStep> steps;      // the last step's sentence is the answer sentence when answered
  std::string answer;                // extracted from the answer sentence; empty when never reached
  bool answered = false;             // the loop reached an answer sentence
  TraceEnd end = TraceEnd::kMaxSteps;  // why the loop ended
  std::string end_detail;            // what went wrong, for kRequestFailed and the like; may be empty
  bool correct = false;              // judged against the gold answers
};

enum class Task { kInit = 0, kExp = 1, kAgg = 2 };
inline const char* task_name(Task t) {
  switch (t) {
    case Task::kInit: return "init";
    case Task::kExp: return "exp";
    case Task::kAgg: return "agg";
  }
  return "?";
}

// One StepER training example: the prompt (never scored) and the target (scored).
struct StepExample {
  std::string id;      // question id + task + step, unique in a set
  Task task = Task::kAgg;
  int step = 0;        // s in the paper's table (1 for init, S for agg)
  std::string prompt;  // q and P<=s in the inference prompt format, ending where the reasoning starts
  std::string target;  // R<=s (init, exp) or R<S then the answer sentence (agg); Self-Ask: the pairs
};

}  // namespace steper
