#include "data/formats.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdint>
#include <fstream>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"
#include "core/text.h"

namespace steper {

using nlohmann::json;

namespace {

// ---------------------------------------------------------------- small helpers

// The first non-blank character of a file, or 0 when the file is blank.
char first_char(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  char c;
  while (in.get(c))
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return c;
  return 0;
}

const json* find(const json& obj, const char* field) { return json_find(obj, field); }

// Ids and labels: a string, or an integer as its decimal text.
std::string as_string(const json& v, const std::string& field, const std::string& where) {
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return json_as_text(v, field, where);
}

// Text (titles, sentences, passages): strings only, so that a number never becomes the sentence "1".
std::string as_text(const json& v, const std::string& field, const std::string& where) {
  return json_as_text(v, field, where);
}

const json& as_array(const json& v, const std::string& field, const std::string& where) {
  if (!v.is_array()) throw Error(where + ": field \"" + field + "\" must be a list, got " + json_brief(v));
  return v;
}

// A non-negative int; Hugging Face exports sometimes give it as a string of digits.
int as_int(const json& v, const std::string& field, const std::string& where) {
  if (v.is_string()) {
    const std::string& t = v.get_ref<const std::string&>();
    if (!t.empty() && t.size() < 10 && t.find_first_not_of("0123456789") == std::string::npos) return std::stoi(t);
  }
  return static_cast<int>(json_as_int(v, field, where, 0, INT32_MAX));
}

bool as_flag(const json& obj, const char* field, const std::string& where) {
  const json* v = find(obj, field);
  return v && json_as_bool(*v, field, where);
}

void add_answer(std::vector<std::string>& answers, const std::string& a) {
  std::string t = trim(a);
  if (t.empty()) return;
  for (const auto& x : answers)
    if (x == t) return;
  answers.push_back(t);
}

void add_aliases(std::vector<std::string>& answers, const json& obj, const std::string& where) {
  const json* aliases = find(obj, "answer_aliases");
  if (!aliases) return;
  as_array(*aliases, "answer_aliases", where);
  for (size_t i = 0; i < aliases->size(); ++i)
    add_answer(answers, as_string((*aliases)[i], "answer_aliases[" + std::to_string(i) + "]", where));
}

int distinct_titles(const std::vector<SupportingFact>& facts) {
  std::set<std::string> titles;
  for (const auto& f : facts) titles.insert(f.title);
  return static_cast<int>(titles.size());
}

// Joins sentences into a paragraph text: one space between non-empty sentences.
std::string join_sentences(const std::vector<std::string>& sentences) {
  std::string text;
  for (const auto& s : sentences) {
    if (s.empty()) continue;
    if (!text.empty()) text += ' ';
    text += s;
  }
  return text;
}

// ---------------------------------------------------------------- HotpotQA / 2Wiki / HF exports

// supporting_facts: [[title, sent_id], ...] (official) or {"title": [...], "sent_id": [...]} (HF).
std::vector<SupportingFact> parse_supporting_facts(const json& v, const std::string& where) {
  std::vector<SupportingFact> out;
  if (v.is_object()) {
    const json& titles = as_array(json_field(v, "title", where + ": supporting_facts"), "supporting_facts.title", where);
    const json& ids = as_array(json_field(v, "sent_id", where + ": supporting_facts"), "supporting_facts.sent_id", where);
    if (titles.size() != ids.size())
      throw Error(where + ": field \"supporting_facts\": " + std::to_string(titles.size()) + " titles but " +
                  std::to_string(ids.size()) + " sent_ids");
    for (size_t i = 0; i < titles.size(); ++i)
      out.push_back({trim(as_text(titles[i], "supporting_facts.title[" + std::to_string(i) + "]", where)),
                     as_int(ids[i], "supporting_facts.sent_id[" + std::to_string(i) + "]", where)});
    return out;
  }
  as_array(v, "supporting_facts", where);
  for (size_t i = 0; i < v.size(); ++i) {
    const json& f = v[i];
    std::string name = "supporting_facts[" + std::to_string(i) + "]";
    if (!f.is_array() || f.size() < 2) throw Error(where + ": field \"" + name + "\" must be [title, sent_id]");
    out.push_back({trim(as_text(f[0], name + "[0]", where)), as_int(f[1], name + "[1]", where)});
  }
  return out;
}

std::vector<std::string> parse_sentences(const json& v, const std::string& field, const std::string& where) {
  std::vector<std::string> out;
  if (v.is_string()) {  // a paragraph given as one string
    out.push_back(trim(v.get<std::string>()));
    return out;
  }
  as_array(v, field, where);
  for (size_t i = 0; i < v.size(); ++i) out.push_back(trim(as_text(v[i], field + "[" + std::to_string(i) + "]", where)));
  return out;
}

// context: [[title, [sentences]], ...] (official) or {"title": [...], "sentences": [[...]]} (HF).
std::vector<ContextParagraph> parse_context(const json& v, const std::string& where) {
  std::vector<ContextParagraph> out;
  if (v.is_object()) {
    const json& titles = as_array(json_field(v, "title", where + ": context"), "context.title", where);
    const json* sents = find(v, "sentences");
    if (!sents) sents = find(v, "content");
    if (!sents) throw Error(where + ": context: missing field \"sentences\"");
    as_array(*sents, "context.sentences", where);
    if (titles.size() != sents->size())
      throw Error(where + ": field \"context\": " + std::to_string(titles.size()) + " titles but " +
                  std::to_string(sents->size()) + " sentence lists");
    for (size_t i = 0; i < titles.size(); ++i)
      out.push_back({trim(as_text(titles[i], "context.title[" + std::to_string(i) + "]", where)),
                     parse_sentences((*sents)[i], "context.sentences[" + std::to_string(i) + "]", where)});
    return out;
  }
  as_array(v, "context", where);
  for (size_t i = 0; i < v.size(); ++i) {
    const json& p = v[i];
    std::string name = "context[" + std::to_string(i) + "]";
    if (!p.is_array() || p.size() < 2) throw Error(where + ": field \"" + name + "\" must be [title, [sentences]]");
    out.push_back({trim(as_text(p[0], name + "[0]", where)), parse_sentences(p[1], name + "[1]", where)});
  }
  return out;
}

Question parse_hotpot(const json& r, const std::string& where) {
  Question q;
  const json* id = find(r, "_id");
  if (!id) id = find(r, "id");
  if (!id) throw Error(where + ": missing field \"_id\"");
  q.id = as_string(*id, "_id", where);
  q.question = json_text(r, "question", where);
  add_answer(q.answers, json_string(r, "answer", where));
  if (q.answers.empty()) throw Error(where + ": field \"answer\" is empty");
  add_aliases(q.answers, r, where);
  if (const json* t = find(r, "type")) q.type = as_string(*t, "type", where);
  if (const json* sf = find(r, "supporting_facts")) q.supporting_facts = parse_supporting_facts(*sf, where);
  if (const json* ctx = find(r, "context")) q.context = parse_context(*ctx, where);
  if (const json* h = find(r, "hops"))
    q.hops = as_int(*h, "hops", where);
  else
    q.hops = distinct_titles(q.supporting_facts);
  return q;
}

// ---------------------------------------------------------------- MuSiQue

// Paragraphs are not sentence-split: each context paragraph is one sentence and supporting facts
// point at sentence 0 of their paragraph.
Question parse_musique(const json& r, const std::string& where) {
  Question q;
  q.id = json_string(r, "id", where);
  q.question = json_text(r, "question", where);
  add_answer(q.answers, json_string(r, "answer", where));
  if (q.answers.empty()) throw Error(where + ": field \"answer\" is empty");
  add_aliases(q.answers, r, where);
  size_t sep = q.id.find("__");
  q.type = sep == std::string::npos ? "" : q.id.substr(0, sep);
  const json& paras = as_array(json_field(r, "paragraphs", where), "paragraphs", where);
  std::unordered_map<int, size_t> by_idx;
  std::vector<bool> supporting;
  for (size_t i = 0; i < paras.size(); ++i) {
    std::string pw = where + ": paragraphs[" + std::to_string(i) + "]";
    const json& p = paras[i];
    ContextParagraph cp;
    cp.title = trim(json_text(p, "title", pw));
    cp.sentences.push_back(trim(json_text(p, "paragraph_text", pw)));
    q.context.push_back(cp);
    int idx = static_cast<int>(i);
    if (const json* x = find(p, "idx")) idx = as_int(*x, "idx", pw);
    auto [at, fresh] = by_idx.emplace(idx, i);
    if (!fresh)
      throw Error(pw + ": field \"idx\" " + std::to_string(idx) + " repeats paragraphs[" + std::to_string(at->second) + "]");
    supporting.push_back(as_flag(p, "is_supporting", pw));
  }
  std::vector<bool> used(paras.size(), false);
  if (const json* dec = find(r, "question_decomposition")) {
    as_array(*dec, "question_decomposition", where);
    for (size_t s = 0; s < dec->size(); ++s) {
      std::string sw = where + ": question_decomposition[" + std::to_string(s) + "]";
      if (!(*dec)[s].is_object()) throw Error(sw + ": expected a JSON object, got " + json_brief((*dec)[s]));
      const json* ps = find((*dec)[s], "paragraph_support_idx");
      if (!ps) continue;  // unanswerable MuSiQue-Full questions have no support
      int idx = as_int(*ps, "paragraph_support_idx", sw);
      auto it = by_idx.find(idx);
      if (it == by_idx.end())
        throw Error(sw + ": field \"paragraph_support_idx\" " + std::to_string(idx) + " names no paragraph");
      if (used[it->second]) continue;
      used[it->second] = true;
      q.supporting_facts.push_back({q.context[it->second].title, 0});
    }
  }
  for (size_t i = 0; i < paras.size(); ++i)
    if (supporting[i] && !used[i]) q.supporting_facts.push_back({q.context[i].title, 0});
  q.hops = distinct_titles(q.supporting_facts);
  return q;
}

// ---------------------------------------------------------------- IRCoT processed

Question parse_ircot(const json& r, const std::string& where) {
  Question q;
  q.id = json_string(r, "question_id", where);
  q.question = json_text(r, "question_text", where);
  const json& objs = as_array(json_field(r, "answers_objects", where), "answers_objects", where);
  for (size_t i = 0; i < objs.size(); ++i) {
    std::string aw = where + ": answers_objects[" + std::to_string(i) + "]";
    const json& a = objs[i];
    if (!a.is_object()) throw Error(aw + ": expected a JSON object");
    if (const json* spans = find(a, "spans")) {
      as_array(*spans, "spans", aw);
      for (const auto& s : *spans) add_answer(q.answers, as_string(s, "spans", aw));
    }
    if (const json* num = find(a, "number")) add_answer(q.answers, as_string(*num, "number", aw));
    if (const json* date = find(a, "date")) {
      std::string d;
      for (const char* part : {"day", "month", "year"}) {
        const json* p = date->is_object() ? find(*date, part) : nullptr;
        std::string v = p ? trim(as_string(*p, std::string("date.") + part, aw)) : "";
        if (v.empty()) continue;
        if (!d.empty()) d += ' ';
        d += v;
      }
      add_answer(q.answers, d);
    }
  }
  if (q.answers.empty()) throw Error(where + ": field \"answers_objects\" holds no answer");
  if (const json* t = find(r, "type")) q.type = as_string(*t, "type", where);
  if (q.type.empty()) {
    size_t sep = q.id.find("__");
    if (sep != std::string::npos) q.type = q.id.substr(0, sep);
  }
  if (const json* ctxs = find(r, "contexts")) {
    as_array(*ctxs, "contexts", where);
    for (size_t i = 0; i < ctxs->size(); ++i) {
      std::string cw = where + ": contexts[" + std::to_string(i) + "]";
      const json& c = (*ctxs)[i];
      ContextParagraph cp;
      const json* title = find(c, "title");
      cp.title = title ? trim(as_text(*title, "title", cw)) : "";
      cp.sentences.push_back(trim(json_text(c, "paragraph_text", cw)));
      if (as_flag(c, "is_supporting", cw)) q.supporting_facts.push_back({cp.title, 0});
      q.context.push_back(cp);
    }
  }
  q.hops = distinct_titles(q.supporting_facts);
  return q;
}

// ---------------------------------------------------------------- format detection

enum class QuestionFormat { kHotpot, kMusique, kIrcot };

QuestionFormat detect_format(const json& r, const std::string& where) {
  if (!r.is_object()) throw Error(where + ": expected a JSON object (one question)");
  if (r.contains("question_text") || r.contains("answers_objects")) return QuestionFormat::kIrcot;
  if (r.contains("paragraphs") || r.contains("question_decomposition")) return QuestionFormat::kMusique;
  if (r.contains("question") && (r.contains("context") || r.contains("supporting_facts") || r.contains("_id")))
    return QuestionFormat::kHotpot;
  std::string keys;
  for (auto it = r.begin(); it != r.end(); ++it) keys += (keys.empty() ? "" : ", ") + it.key();
  throw Error(where +
              ": unknown question format (fields: " + keys +
              "); expected HotpotQA/2WikiMultiHopQA JSON (_id, question, answer, context), a Hugging Face "
              "export of them (id, question, answer, context), MuSiQue JSONL (id, question, answer, "
              "paragraphs) or IRCoT processed JSONL (question_id, question_text, answers_objects)");
}

// What every format must satisfy: an id and a question text, and, when the question brings its own
// context, supporting facts that point into it (a fact pointing nowhere is a data error, not a
// retrieval failure).
void check_question(const Question& q, const std::string& where) {
  if (trim(q.id).empty()) throw Error(where + ": the question id is empty");
  const std::string qw = where + ": question \"" + q.id + "\"";
  if (trim(q.question).empty()) throw Error(qw + ": the question text is empty");
  if (q.context.empty()) return;
  std::unordered_map<std::string, size_t> sentences;  // title -> most sentences of a paragraph so titled
  for (const auto& p : q.context) {
    size_t& n = sentences[p.title];
    n = std::max(n, p.sentences.size());
  }
  for (size_t i = 0; i < q.supporting_facts.size(); ++i) {
    const SupportingFact& f = q.supporting_facts[i];
    const std::string fw = qw + ": field \"supporting_facts[" + std::to_string(i) + "]\"";
    auto it = sentences.find(f.title);
    if (it == sentences.end())
      throw Error(fw + ": title \"" + f.title + "\" is not among the question's " +
                  std::to_string(q.context.size()) + " context paragraphs");
    if (f.sent_id < 0 || static_cast<size_t>(f.sent_id) >= it->second)
      throw Error(fw + ": sentence " + std::to_string(f.sent_id) + " of \"" + f.title + "\", which has " +
                  std::to_string(it->second) + " sentence" + (it->second == 1 ? "" : "s"));
  }
}

Question parse_question(QuestionFormat f, const json& r, const std::string& where) {
  if (!r.is_object()) throw Error(where + ": expected a JSON object (one question)");
  Question q;
  switch (f) {
    case QuestionFormat::kHotpot: q = parse_hotpot(r, where); break;
    case QuestionFormat::kMusique: q = parse_musique(r, where); break;
    case QuestionFormat::kIrcot: q = parse_ircot(r, where); break;
  }
  check_question(q, where);
  return q;
}

// Question ids must be unique within a file (results and traces are keyed by id).
class IdCheck {
 public:
  explicit IdCheck(const std::string& path) : path_(path) {}
  // place: "line 7", "record index 3"
  void add(const std::string& id, const std::string& place) {
    auto [it, fresh] = seen_.emplace(id, place);
    if (!fresh)
      throw Error(path_ + ": " + place + ": duplicate question id \"" + id + "\" (first at " + it->second + ")");
  }
 private:
  std::string path_;
  std::unordered_map<std::string, std::string> seen_;
};

}  // namespace

// ---------------------------------------------------------------- corpus

namespace {

// A missing id becomes the line number.
Passage passage_from_json(const json& obj, const std::string& where, size_t line) {
  if (!obj.is_object()) throw Error(where + ": expected a JSON object (one passage)");
  Passage p;
  const json* id = find(obj, "id");
  if (!id) id = find(obj, "_id");
  p.id = id ? as_string(*id, "id", where) : std::to_string(line);
  const json* title = find(obj, "title");
  if (title) p.title = as_text(*title, "title", where);
  if (const json* t = find(obj, "text")) {
    p.text = as_text(*t, "text", where);
  } else if (const json* pt = find(obj, "paragraph_text")) {
    p.text = as_text(*pt, "paragraph_text", where);
  } else if (const json* ct = find(obj, "contents")) {
    // FlashRAG: "title\ntext", the title often in double quotes.
    std::string contents = as_text(*ct, "contents", where);
    size_t nl = contents.find('\n');
    std::string head = nl == std::string::npos ? "" : contents.substr(0, nl);
    p.text = nl == std::string::npos ? contents : contents.substr(nl + 1);
    if (head.size() >= 2 && head.front() == '"' && head.back() == '"') head = head.substr(1, head.size() - 2);
    if (!title) p.title = head;
  } else {
    throw Error(where + ": missing field \"text\" (or \"paragraph_text\", \"contents\")");
  }
  return p;
}

}  // namespace

struct CorpusReader::State {
  explicit State(const std::string& path) : reader(path) {}
  JsonlReader reader;
  std::unordered_map<std::string, size_t> seen;  // id -> line
  size_t passages = 0;
};

CorpusReader::CorpusReader(const std::string& path) {
  char c = first_char(path);
  if (c == 0) throw Error(path + ": empty corpus (no passages)");
  if (c == '[')
    throw Error(path + ": expected JSON Lines (one {\"id\", \"title\", \"text\"} object a line), found a JSON list");
  s_ = std::make_unique<State>(path);
}

CorpusReader::~CorpusReader() = default;

bool CorpusReader::corpus_next(Passage& p) {
  json obj;
  size_t line = 0;
  const std::string& path = s_->reader.jsonl_path();
  if (!s_->reader.jsonl_next(obj, line)) {
    if (s_->passages == 0) throw Error(path + ": empty corpus (no passages)");
    return false;
  }
  std::string where = path + ":" + std::to_string(line);
  try {
    p = passage_from_json(obj, where, line);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, line, std::string("unexpected value: ") + e.what());
  }
  auto [it, fresh] = s_->seen.emplace(p.id, line);
  if (!fresh) throw Error(where + ": duplicate id \"" + p.id + "\" (first on line " + std::to_string(it->second) + ")");
  ++s_->passages;
  return true;
}

std::vector<Passage> read_corpus(const std::string& path) {
  CorpusReader reader(path);
  std::vector<Passage> out;
  Passage p;
  while (reader.corpus_next(p)) out.push_back(std::move(p));
  return out;
}

void write_corpus(const std::string& path, const std::vector<Passage>& passages) {
  std::string out;
  for (const auto& p : passages) {
    nlohmann::ordered_json j;
    j["id"] = p.id;
    j["title"] = p.title;
    j["text"] = p.text;
    out += j.dump();
    out += '\n';
  }
  write_file_atomic(path, out);
}

// ---------------------------------------------------------------- questions

namespace {

// The id a record gives itself, whatever else is wrong with it ("" when it has none).
std::string record_id(const json& r) {
  if (!r.is_object()) return "";
  for (const char* f : {"_id", "id", "question_id"}) {
    const json* v = find(r, f);
    if (v && v->is_string()) return v->get<std::string>();
    if (v && v->is_number_integer()) return std::to_string(v->get<long long>());
  }
  return "";
}

// The field an error names (`field "X"`, `missing field "X"`), "" when it names none.
std::string error_field(const std::string& error) {
  const std::string key = "field \"";
  size_t at = error.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  size_t end = error.find('"', at);
  return end == std::string::npos ? "" : error.substr(at, end - at);
}

// Reads records one at a time into `out`: a defective one is an Error when strict, else skipped and named.
class QuestionCollector {
 public:
  QuestionCollector(const std::string& path, bool strict, QuestionFile& out) : ids_(path), strict_(strict), out_(out) {}
  void add(const json& r, const std::string& where, const std::string& place) {
    ++out_.records;
    if (!detected_) {  // the first record sets the format; a file of no known format is refused whole
      format_ = detect_format(r, where);
      detected_ = true;
    }
    try {
      Question q = parse_question(format_, r, where);
      ids_.add(q.id, place);
      out_.questions.push_back(std::move(q));
    } catch (const Error& e) {
      if (strict_) throw;
      const std::string error = e.what();
      std::string field = error_field(error);
      if (field.empty() && error.find("duplicate question id") != std::string::npos) field = "id";
      out_.skipped.push_back({place, record_id(r), field, error});
    }
  }

 private:
  IdCheck ids_;
  bool strict_;
  QuestionFile& out_;
  bool detected_ = false;
  QuestionFormat format_ = QuestionFormat::kHotpot;
};

}  // namespace

QuestionFile read_question_file(const std::string& path, bool strict) {
  char c = first_char(path);
  if (c == 0) throw Error(path + ": empty file (no questions)");
  QuestionFile out;
  QuestionCollector collect(path, strict, out);
  if (c == '[') {
    for_each_json_list_element(path, [&](json& r, size_t i) {
      collect.add(r, path + ": record index " + std::to_string(i), "record index " + std::to_string(i));
    });
    if (out.records == 0) throw Error(path + ": empty list (no questions)");
  } else if (c == '{') {
    for_each_jsonl(path, [&](const json& r, size_t line) {
      collect.add(r, path + ":" + std::to_string(line), "line " + std::to_string(line));
    });
  } else {
    throw Error(path + ": unknown question format: expected a JSON list or JSON Lines of question objects");
  }
  if (out.questions.empty() && out.skipped.empty()) throw Error(path + ": empty file (no questions)");
  if (out.questions.empty())
    throw Error(path + ": none of its " + std::to_string(out.records) + " records is a question; the first: " +
                out.skipped[0].error);
  return out;
}

std::vector<Question> read_questions(const std::string& path) { return read_question_file(path, true).questions; }

std::vector<Question> read_questions(const std::string& path, bool strict) {
  QuestionFile file = read_question_file(path, strict);
  if (!file.skipped.empty()) std::fprintf(stderr, "steper: %s\n", skipped_records_line(path, file).c_str());
  return std::move(file.questions);
}

std::string skipped_records_line(const std::string& path, const QuestionFile& file, size_t named) {
  if (file.skipped.empty()) return "";
  std::string out = path + ": " + std::to_string(file.skipped.size()) + " of " + std::to_string(file.records) +
                    " records defective, skipped (--strict refuses the file): ";
  for (size_t i = 0; i < file.skipped.size() && i < named; ++i) {
    const SkippedRecord& s = file.skipped[i];
    if (i) out += "; ";
    out += s.id.empty() ? s.place : "question " + s.id;
    out += s.field.empty() ? " (" + s.error + ")" : " field " + s.field;
  }
  if (file.skipped.size() > named) out += "; and " + std::to_string(file.skipped.size() - named) + " more";
  return out;
}

void write_hotpot_json(const std::string& path, const std::vector<Question>& questions) {
  // One question a line inside the list: valid JSON that stays readable with grep and head.
  std::string out = "[";
  for (size_t i = 0; i < questions.size(); ++i) {
    const Question& q = questions[i];
    nlohmann::ordered_json j;
    j["_id"] = q.id;
    j["question"] = q.question;
    j["answer"] = q.answers.empty() ? std::string() : q.answers[0];
    if (q.answers.size() > 1)
      j["answer_aliases"] = std::vector<std::string>(q.answers.begin() + 1, q.answers.end());
    j["type"] = q.type;
    j["hops"] = q.hops;
    nlohmann::ordered_json sf = nlohmann::ordered_json::array();
    for (const auto& f : q.supporting_facts) sf.push_back({f.title, f.sent_id});
    j["supporting_facts"] = sf;
    nlohmann::ordered_json ctx = nlohmann::ordered_json::array();
    for (const auto& p : q.context) ctx.push_back({p.title, p.sentences});
    j["context"] = ctx;
    out += i == 0 ? "\n" : ",\n";
    out += j.dump();
  }
  out += "\n]\n";
  write_file_atomic(path, out);
}

std::vector<Passage> corpus_from_contexts(const std::vector<Question>& questions) {
  std::vector<Passage> out;
  std::unordered_set<std::string> seen;
  for (const auto& q : questions)
    for (const auto& p : q.context) {
      std::string text = join_sentences(p.sentences);
      if (!seen.insert(p.title + '\x1f' + text).second) continue;
      out.push_back({std::to_string(out.size()), p.title, text});
    }
  return out;
}

}  // namespace steper
