// Readers and writers for the field's data formats (DESIGN.md section 3).
#pragma once

#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

// Corpus JSONL: {"id","title","text"}; also IRCoT's "paragraph_text" and FlashRAG's "contents"
// ("title\ntext"). A missing id becomes the line number. Errors name file:line and the field.
std::vector<Passage> read_corpus(const std::string& path);
void write_corpus(const std::string& path, const std::vector<Passage>& passages);  // atomic

// Questions in any supported format, detected from the content: official HotpotQA JSON,
// 2WikiMultiHopQA JSON, MuSiQue JSONL, IRCoT processed JSONL, Hugging Face `datasets` exports
// (columnar supporting_facts/context).
std::vector<Question> read_questions(const std::string& path);
// Official HotpotQA JSON (a list of {_id, question, answer, type, level, supporting_facts, context}).
void write_hotpot_json(const std::string& path, const std::vector<Question>& questions);  // atomic

// The data set's own context paragraphs as a corpus (one passage per distinct title+text).
std::vector<Passage> corpus_from_contexts(const std::vector<Question>& questions);

}  // namespace steper
