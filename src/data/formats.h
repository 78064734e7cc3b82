// Readers and writers for the field's data formats (docs/DESIGN.md section 3).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

// Corpus JSONL: {"id","title","text"}; also IRCoT's "paragraph_text" and FlashRAG's "contents"
// ("title\ntext"). A missing id becomes the line number. Errors name file:line and the field.
std::vector<Passage> read_corpus(const std::string& path);
// The same as a stream, a passage at a call (a corpus too large to hold): false after the last one.
// The same errors, as each line is reached; an empty corpus is an error at the end.
class CorpusReader {
 public:
  explicit CorpusReader(const std::string& path);
  ~CorpusReader();
  bool corpus_next(Passage& p);

 private:
  struct State;
  std::unique_ptr<State> s_;
};
void write_corpus(const std::string& path, const std::vector<Passage>& passages);  // atomic

// Questions in any supported format, detected from the content: official HotpotQA JSON,
// 2WikiMultiHopQA JSON, MuSiQue JSONL, IRCoT processed JSONL, Hugging Face `datasets` exports
// (columnar supporting_facts/context), each as a JSON list or JSON Lines.
// - answers: the answer, then "answer_aliases" when present (IRCoT: every span, number and date).
// - hops: the "hops" field when present, else the number of distinct supporting titles.
// - Context sentences are stripped of surrounding white space. MuSiQue and IRCoT paragraphs are not
//   sentence-split: each is one sentence, and their supporting facts point at sentence 0.
// - MuSiQue supporting facts follow question_decomposition; type is the id prefix ("2hop", "3hop1").
// Errors name file:line (JSON Lines) or "file: record index N" (JSON lists) and the field.
std::vector<Question> read_questions(const std::string& path);
// Official HotpotQA JSON: a list of {_id, question, answer, type, supporting_facts, context}, one
// question a line, plus "hops" and, when a question has more than one answer, "answer_aliases".
// No "level" (difficulty) is written: steper does not know one.
void write_hotpot_json(const std::string& path, const std::vector<Question>& questions);  // atomic

// The data set's own context paragraphs as a corpus (one passage per distinct title+text, sentences
// joined by one space, ids "0", "1", ... in order of first appearance).
std::vector<Passage> corpus_from_contexts(const std::vector<Question>& questions);

}  // namespace steper
