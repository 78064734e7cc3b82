#include "rag/framework.h"

#include "core/error.h"
#include "core/text.h"
#include "eval/metrics.h"
#include "rag/loop.h"
#include "rag/prompt.h"
#include "retrieval/retriever.h"

namespace steper {

const char* const kFollowUpMarker = "Follow up: ";
const char* const kIntermediateMarker = "Intermediate answer: ";
const char* const kFinalAnswerMarker = "So the final answer is: ";

namespace {

const char* const kSelfAskHeader = "\nAre follow up questions needed here: Yes.\n";

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::string without_period(std::string s) {
  s = trim(s);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return trim(s);
}

}  // namespace

Framework framework_of(const LoopOptions& loop) {
  if (loop.framework == "ircot") return Framework::kIrcot;
  if (loop.framework == "self-ask") return Framework::kSelfAsk;
  throw BugError(__FILE__, __LINE__, "unknown framework \"" + loop.framework + "\"");
}

void set_framework(LoopOptions& loop, const std::string& name) {
  if (name == "ircot") loop.prompt_format = "ircot-v1";
  else if (name == "self-ask") loop.prompt_format = "self-ask-v1";
  else throw Error("--framework: expected ircot or self-ask, got \"" + name + "\"");
  loop.framework = name;
}

void validate_framework(const LoopOptions& loop) {
  if (loop.framework != "ircot" && loop.framework != "self-ask")
    throw Error("framework \"" + loop.framework + "\" is unknown (expected ircot or self-ask)");
  LoopOptions known;
  set_framework(known, loop.framework);
  if (loop.prompt_format != known.prompt_format)
    throw Error("prompt format \"" + loop.prompt_format + "\" is unknown for framework " + loop.framework +
                " (expected " + known.prompt_format + ")");
}

std::string step_prompt(const LoopOptions& loop, const std::string& question, const std::vector<Passage>& shown,
                        const std::vector<std::string>& steps, const std::string& follow_up) {
  if (framework_of(loop) == Framework::kIrcot) return render_prompt(question, shown) + join_sentences(steps);
  std::string out = passages_block(shown) + "Question: " + question + kSelfAskHeader + steps_text(loop, steps);
  if (!follow_up.empty()) out += kFollowUpMarker + follow_up + "\nIntermediate answer:";
  return out;
}

std::string steps_text(const LoopOptions& loop, const std::vector<std::string>& steps) {
  if (framework_of(loop) == Framework::kIrcot) return join_sentences(steps);
  std::string out;
  for (const auto& s : steps) out += s + "\n";
  return out;
}

std::string written_text(const LoopOptions& loop, const std::string& generation) {
  if (framework_of(loop) == Framework::kIrcot) return first_sentence(generation);
  return trim(first_line(generation));
}

std::string answer_step(const LoopOptions& loop, const std::string& answer) {
  if (framework_of(loop) == Framework::kIrcot) return answer_sentence(answer);
  return kFinalAnswerMarker + answer;
}

bool is_answer_step(const LoopOptions& loop, const std::string& step) {
  if (framework_of(loop) == Framework::kIrcot) return is_answer_sentence(step);
  return parse_follow_up_line(step).kind == FollowUpLine::kFinal;
}

std::string answer_of_step(const LoopOptions& loop, const std::string& step) {
  if (framework_of(loop) == Framework::kIrcot) return extract_answer(step);
  if (!is_answer_step(loop, step)) return "";
  // the line starts with the marker, its trailing space not required ("So the final answer is:" alone
  // answers nothing)
  return without_period(trim(trim(step).substr(trim(kFinalAnswerMarker).size())));
}

std::string self_ask_pair(const std::string& follow_up, const std::string& intermediate) {
  return kFollowUpMarker + follow_up + "\n" + kIntermediateMarker + intermediate;
}

std::string self_ask_follow_up_of(const std::string& step) {
  const size_t start = std::string(kFollowUpMarker).size();
  if (!starts_with(step, kFollowUpMarker)) return "";
  const size_t nl = step.find('\n');
  return trim(step.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
}

FollowUpLine parse_follow_up_line(const std::string& line) {
  FollowUpLine out;
  out.text = trim(line);
  const std::string marker = trim(kFollowUpMarker), final_marker = trim(kFinalAnswerMarker);
  if (out.text.empty()) out.kind = FollowUpLine::kEmpty;
  else if (starts_with(out.text, final_marker)) out.kind = FollowUpLine::kFinal;
  else if (starts_with(out.text, marker) && !trim(out.text.substr(marker.size())).empty()) {
    out.kind = FollowUpLine::kFollowUp;
    out.text = trim(out.text.substr(marker.size()));
  } else {
    out.kind = FollowUpLine::kOther;
  }
  return out;
}

TraceEnd follow_up_end(const LoopOptions& loop, const std::vector<std::string>& steps, const std::string& follow_up) {
  for (const auto& s : steps)
    if (self_ask_follow_up_of(s) == trim(follow_up)) return TraceEnd::kRepeatedFollowUp;
  if (static_cast<int>(steps.size()) >= loop.max_steps) return TraceEnd::kMaxSteps;
  return TraceEnd::kAnswered;
}

std::string step_query(const LoopOptions& loop, const std::string& question, const std::vector<std::string>& steps,
                       const std::string& follow_up) {
  if (loop.mode == RagMode::kNone) return "";
  if (framework_of(loop) == Framework::kSelfAsk) {
    if (loop.mode == RagMode::kSingle) return steps.empty() ? ircot_clean_query(question) : "";
    return ircot_clean_query(follow_up);
  }
  if (steps.empty()) return ircot_clean_query(question);
  if (loop.mode == RagMode::kSingle) return "";
  const std::string& last = steps.back();
  if (ircot_is_conclusion(last) || is_answer_sentence(last)) return "";
  return ircot_clean_query(last);
}

}  // namespace steper
