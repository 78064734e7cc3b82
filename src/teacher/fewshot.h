// Few-shot demonstrations for a teacher, written in the prompt format of the loop's framework
// (rag/framework.h: IRCoT or Self-Ask), one set per data set type. Set as RagOptions::prompt_prefix.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"
#include "rag/prompt.h"

namespace steper {

struct FewShotDemo {
  std::vector<Passage> passages;
  std::string question;
  std::vector<std::string> sentences;  // the reasoning, ending with "So the answer is: ..."
  std::vector<std::string> follow_ups;  // Self-Ask: the follow-up question each sentence but the last answers
};

// The types with built-in demonstrations: hotpotqa, 2wiki, musique, world.
std::vector<std::string> fewshot_types();
// The demonstrations of a type; throws Error naming the --fewshot flag for an unknown type.
std::vector<FewShotDemo> fewshot_demos(const std::string& type);
// A demonstration's steps in the loop's framework: IRCoT its sentences; Self-Ask a pair per follow-up
// (the sentence its intermediate answer), then the final answer.
std::vector<std::string> fewshot_steps(const FewShotDemo& demo, const LoopOptions& loop);
// The demonstrations rendered as a prompt prefix: each demo is step_prompt(...) + steps_text(...) with its
// passages cut to loop.passage_words, followed by a blank-line separator, so the real prompt continues
// the pattern.
std::string fewshot_render(const std::vector<FewShotDemo>& demos, const LoopOptions& loop = {});
// "none" -> "", a known type -> its demonstrations, otherwise the path of a text file used as is.
std::string fewshot_prefix(const std::string& type_or_file, const LoopOptions& loop = {});
// Guesses the type from the questions (MuSiQue ids "2hop__...", 2Wiki question types, HotpotQA's 24-hex
// ids); anything else is "world".
std::string fewshot_detect_type(const std::vector<Question>& questions);

}  // namespace steper
