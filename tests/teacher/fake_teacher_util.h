// Shared by the teacher tests and the child process of the resume test: a tiny question set whose
// answers follow from two passages, and an in-memory retriever over them.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"
#include "retrieval/retriever.h"

namespace steper {
namespace testing_teacher {

// Question i: "What is the code of item i?" -> "code<i>"; supporting facts (Item i, 0), (Box i, 0).
std::vector<Question> make_questions(int n);

// The two sentences a perfect teacher writes for question i, then its answer sentence.
std::string first_sentence_for(int i);   // "Item i is stored in box i."
std::string answer_sentence_for(int i);  // "So the answer is: code<i>."

// "item 12" / "box 12" in a query select passages: "box N" -> [Box N, Item N]; "item N" -> [Item N, Box N+1].
class StubRetriever : public Retriever {
 public:
  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override;
  size_t size() const override { return 0; }
};

Passage item_passage(int i);
Passage box_passage(int i);

// The number after `word ` in text (case-insensitive), or -1.
int number_after(const std::string& text, const std::string& word);

}  // namespace testing_teacher
}  // namespace steper
