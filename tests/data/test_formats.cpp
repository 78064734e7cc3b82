// Readers and writers of the field's data formats, on small fixtures written in each official schema.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include "core/error.h"
#include "core/io.h"
#include "data/formats.h"
#include "../hostile/error_of.h"

namespace steper {
namespace {

std::string fixture(const std::string& name) { return std::string(STEPER_FIXTURES) + "/data/" + name; }

std::string temp_path(const std::string& name) {
  return "/tmp/steper_test_data_" + std::to_string(getpid()) + "_" + name;
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "\"" << text << "\" lacks \"" << part << "\"";
}

// ---------------------------------------------------------------- corpus

TEST(Corpus, ReadsIdTitleText) {
  auto ps = read_corpus(fixture("corpus.jsonl"));
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(ps[0].id, "p1");
  EXPECT_EQ(ps[0].title, "Grey Lantern");
  EXPECT_EQ(ps[0].text, "Grey Lantern is a 1961 drama film.");
  EXPECT_EQ(ps[1].id, "2");  // numeric ids become strings
  EXPECT_EQ(ps[2].id, "p3");
}

TEST(Corpus, ReadsIrcotParagraphTextWithLineNumbersAsIds) {
  auto ps = read_corpus(fixture("corpus_ircot.jsonl"));
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].id, "1");
  EXPECT_EQ(ps[1].id, "2");
  EXPECT_EQ(ps[1].title, "Pellam Orrick");
  EXPECT_EQ(ps[1].text, "Pellam Orrick was a film director.");
}

TEST(Corpus, ReadsFlashragContents) {
  auto ps = read_corpus(fixture("corpus_flashrag.jsonl"));
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].title, "Grey Lantern");  // quotes around the title removed
  EXPECT_EQ(ps[0].text, "Grey Lantern is a 1961 drama film.");
  EXPECT_EQ(ps[1].title, "Pellam Orrick");
  EXPECT_EQ(ps[1].text, "Pellam Orrick was a film director.");
}

TEST(Corpus, WriteThenReadRoundTrips) {
  std::vector<Passage> ps = {{"a", "T \"one\"", "Text with\nnewline and ünïcode."}, {"b", "Two", "Second."}};
  std::string path = temp_path("corpus.jsonl");
  write_corpus(path, ps);
  auto back = read_corpus(path);
  ASSERT_EQ(back.size(), 2u);
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_EQ(back[i].id, ps[i].id);
    EXPECT_EQ(back[i].title, ps[i].title);
    EXPECT_EQ(back[i].text, ps[i].text);
  }
  unlink(path.c_str());
}

TEST(CorpusErrors, EmptyFile) {
  std::string path = fixture("corpus_empty.jsonl");
  std::string msg = error_of([&] { read_corpus(path); });
  expect_contains(msg, path);
  expect_contains(msg, "empty corpus");
}

TEST(CorpusErrors, MalformedLineNamesFileAndLine) {
  std::string path = fixture("corpus_malformed.jsonl");
  expect_contains(error_of([&] { read_corpus(path); }), path + ":2:");
}

TEST(CorpusErrors, MissingTextNamesFieldAndLine) {
  std::string path = fixture("corpus_missing_text.jsonl");
  std::string msg = error_of([&] { read_corpus(path); });
  expect_contains(msg, path + ":2:");
  expect_contains(msg, "\"text\"");
}

TEST(CorpusErrors, DuplicateId) {
  std::string path = fixture("corpus_duplicate_id.jsonl");
  std::string msg = error_of([&] { read_corpus(path); });
  expect_contains(msg, path + ":2:");
  expect_contains(msg, "duplicate id \"p1\"");
}

TEST(CorpusErrors, JsonListIsRejectedClearly) {
  std::string msg = error_of([&] { read_corpus(fixture("hotpot_official.json")); });
  expect_contains(msg, "expected JSON Lines");
}

TEST(CorpusErrors, MissingFile) {
  std::string msg = error_of([&] { read_corpus("/nonexistent/corpus.jsonl"); });
  expect_contains(msg, "/nonexistent/corpus.jsonl");
}

// ---------------------------------------------------------------- HotpotQA

void expect_grey_lantern(const Question& q, bool sentence_split) {
  EXPECT_EQ(q.id, "5a7f1c2e5542992e7d278c1a");
  EXPECT_EQ(q.question, "Where was the director of the film Grey Lantern born?");
  ASSERT_EQ(q.answers.size(), 1u);
  EXPECT_EQ(q.answers[0], "Dornavale");
  EXPECT_EQ(q.hops, 2);
  ASSERT_EQ(q.supporting_facts.size(), 2u);
  EXPECT_EQ(q.supporting_facts[0].title, "Grey Lantern");
  EXPECT_EQ(q.supporting_facts[0].sent_id, sentence_split ? 1 : 0);
  EXPECT_EQ(q.supporting_facts[1].title, "Pellam Orrick");
  EXPECT_EQ(q.supporting_facts[1].sent_id, 0);
  ASSERT_EQ(q.context.size(), 3u);
  EXPECT_EQ(q.context[1].title, "Grey Lantern");
  if (sentence_split) {
    ASSERT_EQ(q.context[1].sentences.size(), 3u);
    EXPECT_EQ(q.context[1].sentences[1], "It was directed by Pellam Orrick.");  // leading space trimmed
  }
}

TEST(Questions, ReadsOfficialHotpot) {
  auto qs = read_questions(fixture("hotpot_official.json"));
  ASSERT_EQ(qs.size(), 2u);
  expect_grey_lantern(qs[0], true);
  EXPECT_EQ(qs[0].type, "bridge");
  EXPECT_EQ(qs[1].type, "comparison");
  EXPECT_EQ(qs[1].answers[0], "Quessa Mill");
  EXPECT_EQ(qs[1].supporting_facts[1].title, "Tamber Press");
  EXPECT_EQ(qs[1].supporting_facts[1].sent_id, 1);
  EXPECT_EQ(qs[1].hops, 2);
}

TEST(Questions, ReadsHuggingFaceExportJsonlAndList) {
  for (const char* name : {"hf_hotpot.jsonl", "hf_hotpot_array.json"}) {
    SCOPED_TRACE(name);
    auto qs = read_questions(fixture(name));
    ASSERT_EQ(qs.size(), 2u);
    expect_grey_lantern(qs[0], true);
    EXPECT_EQ(qs[1].id, "5a8b3e0a5542997f31a41d2b");
    EXPECT_EQ(qs[1].context[0].title, "Tamber Press");
    EXPECT_EQ(qs[1].context[0].sentences[1], "It was founded in 1902.");
  }
}

TEST(Questions, HuggingFaceAndOfficialHotpotAgree) {
  auto a = read_questions(fixture("hotpot_official.json"));
  auto b = read_questions(fixture("hf_hotpot.jsonl"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].answers, b[i].answers);
    ASSERT_EQ(a[i].context.size(), b[i].context.size());
    for (size_t j = 0; j < a[i].context.size(); ++j) EXPECT_EQ(a[i].context[j].sentences, b[i].context[j].sentences);
  }
}

TEST(Questions, Reads2WikiMultiHopQA) {
  auto qs = read_questions(fixture("twowiki_official.json"));
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].id, "8c1a0f4e0bdd11eba7f7acde48001122");
  EXPECT_EQ(qs[0].type, "compositional");
  EXPECT_EQ(qs[0].answers, std::vector<std::string>{"Adela Castrell"});
  EXPECT_EQ(qs[0].hops, 2);
  EXPECT_EQ(qs[0].supporting_facts[1].title, "Ivo Castrell");
  EXPECT_EQ(qs[0].supporting_facts[1].sent_id, 1);
  EXPECT_EQ(qs[0].context[1].sentences[1], "His mother was Adela Castrell.");
  EXPECT_EQ(qs[1].type, "comparison");
  EXPECT_EQ(qs[1].answers[0], "Salt Meadow");
}

TEST(Questions, Reads2WikiAnswerAliases) {
  auto qs = read_questions(fixture("twowiki_aliases.json"));
  ASSERT_EQ(qs.size(), 1u);
  EXPECT_EQ(qs[0].answers, (std::vector<std::string>{"Bertram Tolven", "Bertram T. Tolven", "B. Tolven"}));
  EXPECT_EQ(qs[0].type, "inference");
}

// ---------------------------------------------------------------- MuSiQue

TEST(Questions, ReadsMusiqueWithFactsInDecompositionOrder) {
  auto qs = read_questions(fixture("musique.jsonl"));
  ASSERT_EQ(qs.size(), 2u);
  const Question& a = qs[0];
  EXPECT_EQ(a.id, "2hop__482757_12019");
  EXPECT_EQ(a.type, "2hop");
  EXPECT_EQ(a.answers, (std::vector<std::string>{"Tamsin Drake", "T. Drake"}));
  EXPECT_EQ(a.hops, 2);
  ASSERT_EQ(a.supporting_facts.size(), 2u);
  EXPECT_EQ(a.supporting_facts[0].title, "Blue Quarry");  // step 1 is paragraph 2
  EXPECT_EQ(a.supporting_facts[1].title, "Orla Venn");
  ASSERT_EQ(a.context.size(), 3u);
  EXPECT_EQ(a.context[1].sentences, std::vector<std::string>{"Orla Venn is a singer. She is married to Tamsin Drake."});
  const Question& b = qs[1];
  EXPECT_EQ(b.type, "3hop1");
  EXPECT_EQ(b.hops, 3);
  ASSERT_EQ(b.supporting_facts.size(), 3u);
  EXPECT_EQ(b.supporting_facts[0].title, "Ember Mill");
  EXPECT_EQ(b.supporting_facts[1].title, "Harl County");
  EXPECT_EQ(b.supporting_facts[2].title, "Vesna");
  EXPECT_EQ(b.answers, std::vector<std::string>{"Dorlin"});
}

// ---------------------------------------------------------------- IRCoT

TEST(Questions, ReadsIrcotProcessed) {
  auto qs = read_questions(fixture("ircot.jsonl"));
  ASSERT_EQ(qs.size(), 3u);
  EXPECT_EQ(qs[0].id, "5a7f1c2e5542992e7d278c1a");
  EXPECT_EQ(qs[0].question, "Where was the director of the film Grey Lantern born?");
  EXPECT_EQ(qs[0].answers, std::vector<std::string>{"Dornavale"});
  EXPECT_EQ(qs[0].type, "bridge");
  EXPECT_EQ(qs[0].hops, 2);
  ASSERT_EQ(qs[0].supporting_facts.size(), 2u);
  EXPECT_EQ(qs[0].supporting_facts[0].title, "Grey Lantern");
  EXPECT_EQ(qs[0].supporting_facts[1].title, "Pellam Orrick");
  EXPECT_EQ(qs[0].context.size(), 3u);
  EXPECT_EQ(qs[1].type, "");
  EXPECT_EQ(qs[1].answers, std::vector<std::string>{"Adela Castrell"});
  EXPECT_EQ(qs[2].answers, std::vector<std::string>{"4 March 1871"});  // a date answer
  EXPECT_EQ(qs[2].type, "2hop");
}

// ---------------------------------------------------------------- writer

TEST(Questions, HotpotWriterRoundTripsAliasesHopsAndContext) {
  Question q;
  q.id = "x1";
  q.question = "Who wrote \"A Quiet Harbor\"?";
  q.answers = {"Varlo Menteth", "V. Menteth"};
  q.type = "bridge";
  q.hops = 3;  // differs from the distinct supporting titles: the field must be kept
  q.supporting_facts = {{"A Quiet Harbor", 2}, {"Varlo Menteth", 0}};
  q.context = {{"A Quiet Harbor", {"One.", "Two.", "A Quiet Harbor was written by Varlo Menteth."}},
               {"Varlo Menteth", {"Varlo Menteth was born in Brelith."}}};
  Question plain = q;
  plain.id = "x2";
  plain.answers = {"yes"};
  plain.hops = 2;
  std::string path = temp_path("q.json");
  write_hotpot_json(path, {q, plain});
  auto back = read_questions(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].id, "x1");
  EXPECT_EQ(back[0].question, q.question);
  EXPECT_EQ(back[0].answers, q.answers);
  EXPECT_EQ(back[0].type, "bridge");
  EXPECT_EQ(back[0].hops, 3);
  ASSERT_EQ(back[0].supporting_facts.size(), 2u);
  EXPECT_EQ(back[0].supporting_facts[0].sent_id, 2);
  EXPECT_EQ(back[0].context[0].sentences, q.context[0].sentences);
  EXPECT_EQ(back[1].answers, std::vector<std::string>{"yes"});
  // The layout is the official one: a list of objects with _id and [title, sent_id] pairs,
  // and "answer_aliases" only when there are aliases.
  auto raw = read_json(path);
  ASSERT_TRUE(raw.is_array());
  EXPECT_EQ(raw[0]["_id"], "x1");
  EXPECT_EQ(raw[0]["answer"], "Varlo Menteth");
  EXPECT_EQ(raw[0]["answer_aliases"][0], "V. Menteth");
  EXPECT_EQ(raw[0]["supporting_facts"][0][0], "A Quiet Harbor");
  EXPECT_EQ(raw[0]["context"][1][1][0], "Varlo Menteth was born in Brelith.");
  EXPECT_FALSE(raw[1].contains("answer_aliases"));
  unlink(path.c_str());
}

TEST(Questions, CorpusFromContextsKeepsOneParagraphPerTitleAndText) {
  auto qs = read_questions(fixture("hotpot_official.json"));
  auto more = read_questions(fixture("hf_hotpot.jsonl"));  // the same paragraphs again
  qs.insert(qs.end(), more.begin(), more.end());
  auto corpus = corpus_from_contexts(qs);
  ASSERT_EQ(corpus.size(), 5u);  // Harrow Pike, Grey Lantern, Pellam Orrick, Tamber Press, Quessa Mill
  EXPECT_EQ(corpus[1].title, "Grey Lantern");
  EXPECT_EQ(corpus[1].text, "Grey Lantern is a 1961 drama film. It was directed by Pellam Orrick. The film was shot in winter.");
  EXPECT_EQ(corpus[3].title, "Tamber Press");
  for (size_t i = 0; i < corpus.size(); ++i) EXPECT_EQ(corpus[i].id, std::to_string(i));
}

// ---------------------------------------------------------------- bad input

TEST(QuestionErrors, MalformedJsonNamesFileAndLine) {
  std::string path = fixture("questions_malformed.json");
  expect_contains(error_of([&] { read_questions(path); }), path + ":3:");
}

TEST(QuestionErrors, MalformedJsonlNamesFileAndLine) {
  std::string path = fixture("questions_malformed.jsonl");
  expect_contains(error_of([&] { read_questions(path); }), path + ":3:");
}

TEST(QuestionErrors, MissingAnswerNamesFieldAndRecord) {
  std::string path = fixture("questions_missing_answer.json");
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ": record index 1");
  expect_contains(msg, "\"answer\"");
}

TEST(QuestionErrors, MissingAnswerInJsonlNamesFieldAndLine) {
  std::string path = fixture("questions_missing_answer.jsonl");
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ":2:");
  expect_contains(msg, "\"answer\"");
}

TEST(QuestionErrors, BadSupportingFactNamesField) {
  std::string path = fixture("questions_bad_facts.json");
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, "record index 1");
  expect_contains(msg, "supporting_facts[0]");
}

TEST(QuestionErrors, UnknownFormat) {
  std::string path = fixture("questions_unknown.jsonl");
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ":1:");
  expect_contains(msg, "unknown question format");
  expect_contains(msg, "golden_answers");  // says what it found
}

TEST(QuestionErrors, EmptyFile) {
  std::string path = fixture("corpus_empty.jsonl");
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path);
  expect_contains(msg, "empty");
}

TEST(QuestionErrors, CorpusIsNotAQuestionFile) {
  std::string path = fixture("corpus.jsonl");
  expect_contains(error_of([&] { read_questions(path); }), "unknown question format");
}

// ---------------------------------------------------------------- damaged values

// Writes text to a fresh temporary file and returns its path.
std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = temp_path(name);
  write_file_atomic(path, text);
  return path;
}

// One HotpotQA-format question (a JSON list) with two context paragraphs of two sentences each.
std::string hotpot_list(const std::string& id, const std::string& facts, const std::string& sentences_a,
                        const std::string& extra = "") {
  return "[{\"_id\": \"" + id +
         "\", \"question\": \"Where was the author of B born?\", \"answer\": \"Paris\", "
         "\"supporting_facts\": " + facts + ", \"context\": [[\"A\", " + sentences_a +
         "], [\"B\", [\"B was written by A.\", \"It sold well.\"]]]}" + extra + "]";
}

const char* kGoodFacts = "[[\"A\", 0], [\"B\", 0]]";
const char* kGoodSentences = "[\"A was born in Paris.\", \"A wrote B.\"]";

TEST(QuestionValues, ValidQuestionLoads) {
  // The base of the damaged variants below loads: each failure is the damage's.
  auto qs = read_questions(write_temp("valid.json", hotpot_list("q1", kGoodFacts, kGoodSentences)));
  ASSERT_EQ(qs.size(), 1u);
  ASSERT_EQ(qs[0].supporting_facts.size(), 2u);
  EXPECT_EQ(qs[0].context[0].sentences[1], "A wrote B.");
}

TEST(QuestionValues, NumbersAsContextSentencesAreRejected) {
  std::string path = write_temp("num_sent.json", hotpot_list("q1", kGoodFacts, "[1, 2]"));
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ": record index 0");
  expect_contains(msg, "context[0][1][0]");
  expect_contains(msg, "must be a string, got 1");
}

TEST(QuestionValues, NumbersAsContextSentencesInJsonlAreRejected) {
  std::string path = write_temp("num_sent.jsonl",
                                "{\"_id\": \"q1\", \"question\": \"Q?\", \"answer\": \"x\", \"supporting_facts\": [], "
                                "\"context\": {\"title\": [\"A\"], \"sentences\": [[\"s\", 7]]}}\n");
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ":1:");
  expect_contains(msg, "context.sentences[0][1]");
}

TEST(QuestionValues, NegativeSupportingSentenceIsADataError) {
  std::string path = write_temp("sf_neg.json", hotpot_list("q7", "[[\"A\", -1]]", kGoodSentences));
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ": record index 0");
  expect_contains(msg, "supporting_facts[0]");
}

TEST(QuestionValues, SupportingSentenceBeyondTheParagraphIsADataError) {
  std::string path = write_temp("sf_999.json", hotpot_list("q7", "[[\"A\", 0], [\"B\", 999]]", kGoodSentences));
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ": record index 0");
  expect_contains(msg, "question \"q7\"");
  expect_contains(msg, "supporting_facts[1]");
  expect_contains(msg, "sentence 999 of \"B\", which has 2 sentences");
}

TEST(QuestionValues, SupportingTitleOutsideTheContextIsADataError) {
  std::string path = write_temp("sf_title.json", hotpot_list("q7", "[[\"Nowhere\", 0]]", kGoodSentences));
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, "question \"q7\"");
  expect_contains(msg, "supporting_facts[0]");
  expect_contains(msg, "\"Nowhere\" is not among");
}

TEST(QuestionValues, SupportingFactsNeedNoContextWhenThereIsNone) {
  // Open-domain files carry facts without context: nothing to check them against.
  std::string path = write_temp("sf_noctx.jsonl",
                                "{\"_id\": \"q1\", \"question\": \"Q?\", \"answer\": \"x\", "
                                "\"supporting_facts\": [[\"Anything\", 5]]}\n");
  auto qs = read_questions(path);
  ASSERT_EQ(qs.size(), 1u);
  EXPECT_EQ(qs[0].supporting_facts[0].sent_id, 5);
}

TEST(QuestionValues, DuplicateIdsInAListAreRejected) {
  std::string one = hotpot_list("same", kGoodFacts, kGoodSentences);
  std::string two = one.substr(0, one.size() - 1) + ", " + one.substr(1);
  std::string path = write_temp("dup.json", two);
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ": record index 1: duplicate question id \"same\" (first at record index 0)");
}

TEST(QuestionValues, DuplicateIdsInJsonlAreRejected) {
  std::string line = "{\"id\": \"2hop__1\", \"question\": \"Q?\", \"answer\": \"x\", \"paragraphs\": []}\n";
  std::string path = write_temp("dup.jsonl", line + "\n" + line);
  expect_contains(error_of([&] { read_questions(path); }), path + ": line 3: duplicate question id \"2hop__1\"");
}

TEST(QuestionValues, SentenceIdBeyondIntIsRejectedNotWrapped) {
  std::string path = write_temp("sf_big.json", hotpot_list("q1", "[[\"A\", 4294967296]]", kGoodSentences));
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, "supporting_facts[0][1]");
  expect_contains(msg, "4294967296");
}

TEST(QuestionValues, NonBooleanIsSupportingIsRejected) {
  std::string path = write_temp("musique_sup.jsonl",
                                "{\"id\": \"2hop__1\", \"question\": \"Q?\", \"answer\": \"x\", \"paragraphs\": "
                                "[{\"idx\": 0, \"title\": \"A\", \"paragraph_text\": \"t\", \"is_supporting\": \"yes\"}]}\n");
  std::string msg = error_of([&] { read_questions(path); });
  expect_contains(msg, path + ":1: paragraphs[0]: field \"is_supporting\" must be true or false");
}

TEST(CorpusValues, OverflowingIdNamesFileAndLine) {
  std::string path = write_temp("c_1e400.jsonl",
                                "{\"id\": \"a\", \"title\": \"T\", \"text\": \"x\"}\n{\"id\": 1e400, \"title\": \"T\", \"text\": \"y\"}\n");
  std::string msg = error_of([&] { read_corpus(path); });
  expect_contains(msg, path + ":2: malformed JSON");
  expect_contains(msg, "1e400");
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(CorpusValues, NumberAsTextIsRejected) {
  std::string path = write_temp("c_num.jsonl", "{\"id\": 3, \"title\": \"T\", \"text\": 12}\n");
  expect_contains(error_of([&] { read_corpus(path); }), path + ":1: field \"text\" must be a string, got 12");
}

TEST(CorpusValues, IntegerIdIsItsDecimalText) {
  auto ps = read_corpus(write_temp("c_intid.jsonl", "{\"id\": 3, \"title\": \"T\", \"text\": \"x\"}\n"));
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].id, "3");
}

TEST(CorpusValues, TornLastLineNamesItsLine) {
  std::string path = write_temp("c_torn.jsonl", "{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"b\", \"te");
  expect_contains(error_of([&] { read_corpus(path); }), path + ":2: malformed JSON");
}

TEST(JsonFile, OverflowingNumberInAJsonFileNamesItsLine) {
  std::string path = write_temp("overflow.json", "[\n{\"a\": 1},\n{\"a\": -1e999}\n]\n");
  expect_contains(error_of([&] { read_json(path); }), path + ":3: malformed JSON");
}


// ---------------------------------------------------------------- official files with a defective record

// The fixture with one defective record put second to last (a JSON list) or last (JSON Lines).
std::string with_defect(const std::string& name, const std::string& record) {
  std::string text = read_file(fixture(name));
  if (text.find_first_not_of(" \n") != std::string::npos && text[text.find_first_not_of(" \n")] == '[') {
    size_t end = text.rfind(']');
    size_t last = text.rfind('}', end);
    text = text.substr(0, last + 1) + ",\n" + record + text.substr(last + 1);
  } else {
    text += record + "\n";
  }
  return write_temp("defect_" + name, text);
}

void expect_one_skipped(const std::string& name, const std::string& record, const std::string& id,
                        const std::string& field) {
  const std::string path = with_defect(name, record);
  const size_t good = read_questions(fixture(name)).size();
  QuestionFile f = read_question_file(path, false);
  EXPECT_EQ(f.questions.size(), good) << name;  // the file is still read, every other record in it
  EXPECT_EQ(f.records, good + 1) << name;
  ASSERT_EQ(f.skipped.size(), 1u) << name;
  EXPECT_EQ(f.skipped[0].id, id);
  EXPECT_EQ(f.skipped[0].field, field);
  for (const auto& q : f.questions) EXPECT_NE(q.id, id);
  std::string line = skipped_records_line(path, f);
  expect_contains(line, "1 of " + std::to_string(good + 1) + " records defective, skipped");
  expect_contains(line, "question " + id + " field " + field);
  // --strict refuses the file, naming the record
  std::string msg = error_of([&] { read_question_file(path, true); });
  expect_contains(msg, path);
  expect_contains(msg, field);
  EXPECT_EQ(msg, error_of([&] { read_questions(path); }));
}

TEST(DefectiveRecords, HotpotSupportingFactNamingASentenceItsParagraphLacks) {
  expect_one_skipped("hotpot_official.json",
                     "{\"_id\": \"5a8b57f25542995d1e6f1371\", \"question\": \"Q?\", \"answer\": \"x\", \"type\": "
                     "\"bridge\", \"level\": \"hard\", \"supporting_facts\": [[\"A\", 0], [\"A\", 3]], "
                     "\"context\": [[\"A\", [\"One.\", \" Two.\"]]]}",
                     "5a8b57f25542995d1e6f1371", "supporting_facts[1]");
}

TEST(DefectiveRecords, TwoWikiSupportingTitleOutsideItsContext) {
  expect_one_skipped("twowiki_official.json",
                     "{\"_id\": \"bad2wiki\", \"type\": \"comparison\", \"question\": \"Q?\", \"context\": "
                     "[[\"A\", [\"One.\"]]], \"supporting_facts\": [[\"Elsewhere\", 0]], \"evidences\": [], "
                     "\"answer\": \"yes\"}",
                     "bad2wiki", "supporting_facts[0]");
}

TEST(DefectiveRecords, MusiqueSupportNamingNoParagraph) {
  expect_one_skipped("musique.jsonl",
                     "{\"id\": \"2hop__1_2\", \"paragraphs\": [{\"idx\": 0, \"title\": \"A\", \"paragraph_text\": "
                     "\"One.\", \"is_supporting\": true}], \"question\": \"Q?\", \"question_decomposition\": "
                     "[{\"id\": 1, \"question\": \"q\", \"answer\": \"x\", \"paragraph_support_idx\": 7}], "
                     "\"answer\": \"x\", \"answerable\": true}",
                     "2hop__1_2", "paragraph_support_idx");
}

TEST(DefectiveRecords, ARepeatedIdIsSkippedAndTheFirstKept) {
  std::string one = hotpot_list("same", kGoodFacts, kGoodSentences);
  std::string path = write_temp("dup_skip.json", one.substr(0, one.size() - 1) + ", " + one.substr(1));
  QuestionFile f = read_question_file(path, false);
  ASSERT_EQ(f.questions.size(), 1u);
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].place, "record index 1");
  EXPECT_EQ(f.skipped[0].field, "id");
}

TEST(DefectiveRecords, MalformedJsonStillRefusesTheFile) {
  std::string path = write_temp("torn.json", hotpot_list("q1", kGoodFacts, kGoodSentences).substr(0, 40));
  expect_contains(error_of([&] { read_question_file(path, false); }), path + ":1:");
  std::string bad = write_temp("all_bad.json", hotpot_list("q1", "[[\"A\", 9]]", kGoodSentences));
  expect_contains(error_of([&] { read_question_file(bad, false); }), "none of its 1 records is a question");
}

TEST(Questions, CorpusFromContextsIdsAreTheSameEveryRun) {
  auto a = corpus_from_contexts(read_questions(fixture("twowiki_official.json")));
  auto b = corpus_from_contexts(read_questions(fixture("twowiki_official.json")));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, std::to_string(i));
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].text, b[i].text);
  }
}

}  // namespace
}  // namespace steper
