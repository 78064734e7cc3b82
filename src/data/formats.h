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
std::vector<Question> read_questions(const std::string& path);  // every record must be a question
// Official files as published hold the odd defective record (a supporting fact naming a sentence or a title
// its context lacks, an empty answer, a field of the wrong type, an id seen before). read_question_file with
// strict = false skips each such record, whole, and names it (its place, question id and the field at
// fault); strict = true refuses the file at the first, as read_questions does. A file that cannot be read
// as JSON, or whose first record is of no known format, is always refused. A JSON list is read one record
// at a time, never held whole.
struct SkippedRecord {
  std::string place;  // "line 7", "record index 3"
  std::string id;     // the question id the record gives, "" when none
  std::string field;  // the field at fault, "" when the error names none
  std::string error;  // the whole error
};
struct QuestionFile {
  std::vector<Question> questions;
  std::vector<SkippedRecord> skipped;
  size_t records = 0;  // questions and skipped records together
};
QuestionFile read_question_file(const std::string& path, bool strict);
// One line for a person: how many records were skipped, the first `named` of them by question id and field;
// "" when none was.
std::string skipped_records_line(const std::string& path, const QuestionFile& file, size_t named = 5);
// read_question_file's questions, its skipped records' line written on standard error (the commands' --strict).
std::vector<Question> read_questions(const std::string& path, bool strict);
// Official HotpotQA JSON: a list of {_id, question, answer, type, supporting_facts, context}, one
// question a line, plus "hops" and, when a question has more than one answer, "answer_aliases".
// No "level" (difficulty) is written: steper does not know one.
void write_hotpot_json(const std::string& path, const std::vector<Question>& questions);  // atomic

// The data set's own context paragraphs as a corpus (one passage per distinct title+text, sentences
// joined by one space, ids "0", "1", ... in order of first appearance).
std::vector<Passage> corpus_from_contexts(const std::vector<Question>& questions);

}  // namespace steper
