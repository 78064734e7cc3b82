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

// One step of the multi-step loop: the query sent to retrieval, what came back, the sentence written.
struct TraceStep {
  std::string query;                       // empty when the step did not retrieve
  std::vector<ScoredPassage> retrieved;    // what this step's retrieval returned
  std::string sentence;                    // the reasoning sentence written at this step
};

// A whole run of the loop on one question (teacher trace or evaluation prediction).
struct Trace {
  std::string id;
  std::string question;
  std::vector<std::string> answers;  // gold answers with aliases
  std::string type;
  int hops = 0;
  std::string teacher;               // who wrote the sentences (gold, a model folder, a server model)
  std::vector<TraceStep> steps;      // the last step's sentence is the answer sentence when answered
  std::string answer;                // extracted from "So the answer is: ..."; empty when never reached
  bool answered = false;             // the loop reached an answer sentence
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
  std::string target;  // R<=s (init, exp) or R<S then the answer sentence (agg)
};

}  // namespace steper
