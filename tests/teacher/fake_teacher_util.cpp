#include "fake_teacher_util.h"

#include <cctype>

namespace steper {
namespace testing_teacher {

std::vector<Question> make_questions(int n) {
  std::vector<Question> qs;
  for (int i = 0; i < n; ++i) {
    Question q;
    q.id = "q" + std::to_string(i);
    q.question = "What is the code of item " + std::to_string(i) + "?";
    q.answers = {"code" + std::to_string(i)};
    q.type = "bridge";
    q.hops = 2;
    q.supporting_facts = {{"Item " + std::to_string(i), 0}, {"Box " + std::to_string(i), 0}};
    qs.push_back(q);
  }
  return qs;
}

std::string first_sentence_for(int i) {
  return "Item " + std::to_string(i) + " is stored in box " + std::to_string(i) + ".";
}
std::string answer_sentence_for(int i) { return "So the answer is: code" + std::to_string(i) + "."; }

Passage item_passage(int i) {
  return {"item-" + std::to_string(i), "Item " + std::to_string(i), first_sentence_for(i)};
}
Passage box_passage(int i) {
  return {"box-" + std::to_string(i), "Box " + std::to_string(i),
          "Box " + std::to_string(i) + " holds the code code" + std::to_string(i) + "."};
}

int number_after(const std::string& text, const std::string& word) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto pos = lower.rfind(word + " ");
  if (pos == std::string::npos) return -1;
  pos += word.size() + 1;
  if (pos >= lower.size() || !std::isdigit(static_cast<unsigned char>(lower[pos]))) return -1;
  return std::stoi(lower.substr(pos));
}

std::vector<std::vector<ScoredPassage>> StubRetriever::search_batch(const std::vector<std::string>& queries, int k) {
  std::vector<std::vector<ScoredPassage>> out;
  for (const auto& q : queries) {
    std::vector<ScoredPassage> found;
    int box = number_after(q, "box"), item = number_after(q, "item");
    if (box >= 0) found = {{box_passage(box), 2.0}, {item_passage(box), 1.0}};
    else if (item >= 0) found = {{item_passage(item), 2.0}, {box_passage(item + 1), 1.0}};
    if (static_cast<int>(found.size()) > k) found.resize(static_cast<size_t>(k));
    out.push_back(found);
  }
  return out;
}

}  // namespace testing_teacher
}  // namespace steper
