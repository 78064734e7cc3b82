// Answer scoring exactly as the official HotpotQA/SQuAD scripts do (docs/DESIGN.md section 2).
#pragma once

#include <string>
#include <vector>

namespace steper {

std::string normalize_answer(const std::string& s);
double exact_match(const std::string& prediction, const std::string& gold);  // 0 or 1
double f1_score(const std::string& prediction, const std::string& gold);     // HotpotQA rules incl. yes/no/noanswer
double accuracy(const std::string& prediction, const std::string& gold);     // gold is a substring of prediction
// Max over the gold answer and its aliases.
double best_exact_match(const std::string& prediction, const std::vector<std::string>& golds);
double best_f1(const std::string& prediction, const std::vector<std::string>& golds);
double best_accuracy(const std::string& prediction, const std::vector<std::string>& golds);

// The answer marker every writer ends with: "So the answer is: " (IRCoT's wording).
extern const char* const kAnswerMarker;
// kAnswerMarker + answer + "." : the sentence a writer ends a trace with.
std::string answer_sentence(const std::string& answer);
// "So the answer is: X." -> "X" (IRCoT's `answer is:? (.*)`, trailing period removed); "" when absent.
std::string extract_answer(const std::string& sentence);
bool is_answer_sentence(const std::string& sentence);

}  // namespace steper
