// The multi-step loop with a scripted retriever and a scripted text generator.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "core/evidence.h"
#include "core/io.h"
#include "core/trace_json.h"
#include "../hostile/error_of.h"
#include "rag/evaluate.h"
#include "rag/loop.h"
#include "rag/prompt.h"
#include "rag/prompt_fit.h"

namespace steper {
namespace {

// ---- Fakes

// Returns a fixed list per query (unknown queries: nothing) and records every call.
class FakeRetriever : public Retriever {
 public:
  std::map<std::string, std::vector<Passage>> table;
  std::vector<std::vector<std::string>> calls;
  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    calls.push_back(queries);
    std::vector<std::vector<ScoredPassage>> out;
    for (const auto& q : queries) {
      std::vector<ScoredPassage> r;
      auto it = table.find(q);
      if (it != table.end())
        for (size_t i = 0; i < it->second.size() && static_cast<int>(i) < k; ++i)
          r.push_back(ScoredPassage{it->second[i], 10.0 - static_cast<double>(i)});
      out.push_back(r);
    }
    return out;
  }
  size_t size() const override { return 0; }
};

// Text from a function of the prompt; records every batch of prompts.
class FakeGenerator : public TextGenerator {
 public:
  std::function<std::string(const std::string&)> script;
  std::vector<std::vector<GenerateRequest>> calls;
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override {
    calls.push_back(requests);
    std::vector<GenerateResult> out;
    for (const auto& r : requests) out.push_back(GenerateResult{script(r.prompt), 0, 0});
    return out;
  }
  std::string name() const override { return "fake"; }
};

// Writes a fixed list of sentences per question id, one a step.
class ScriptedWriter : public StepWriter {
 public:
  std::map<std::string, std::vector<std::string>> script;
  std::vector<std::vector<std::string>> passage_ids_seen;  // per call, per state: ids joined
  std::vector<Written> write(const std::vector<const RagState*>& states) override {
    std::vector<Written> out;
    for (const RagState* s : states) {
      const auto& lines = script.at(s->question->id);
      out.push_back(Written::next(s->sentences.size() < lines.size() ? lines[s->sentences.size()] : "filler."));
      std::vector<std::string> ids;
      for (const auto& p : s->shown) ids.push_back(p.id);
      passage_ids_seen.push_back(ids);
    }
    return out;
  }
  std::string name() const override { return "scripted"; }
};

Passage P(const std::string& id, const std::string& title, const std::string& text = "") {
  return Passage{id, title, text.empty() ? title + " text." : text};
}

Question Q(const std::string& id, const std::string& text, const std::string& answer) {
  Question q;
  q.id = id;
  q.question = text;
  q.answers = {answer};
  return q;
}

// ---- Prompt

// Every reader of the loop's integer options checks the same range and names the flag or the field.
TEST(RagLoop, OptionRangesAreTheSameForFlagsAndTraces) {
  auto refused = [](void (*edit)(LoopOptions&)) {
    LoopOptions o;
    edit(o);
    return error_of([&] { validate_loop_options(o); });
  };
  EXPECT_EQ(refused([](LoopOptions& o) { o.k = 0; }), "-k must be in [1, 1000], got 0");
  EXPECT_EQ(refused([](LoopOptions& o) { o.max_passages = 10001; }), "--max-passages must be in [1, 10000], got 10001");
  EXPECT_EQ(refused([](LoopOptions& o) { o.passage_words = 1000000; }), "");
  nlohmann::json j = to_json(LoopOptions{});
  j["max_steps"] = 1001;
  EXPECT_NE(error_of([&] { loop_options_from_json(j, "t.jsonl:3"); }).find("max_steps"), std::string::npos);
  j["max_steps"] = 1000;
  EXPECT_EQ(loop_options_from_json(j, "t.jsonl:3").max_steps, 1000);
}

TEST(RagPrompt, ExactTextAndPassageCut) {
  std::vector<Passage> ps = {P("1", "Jim Halsey", "Jim  Halsey is a   talent manager who guided Roy Clark."),
                             P("2", "Roy Clark", "Roy Clark hosted Hee Haw.")};
  EXPECT_EQ(build_prompt("Who hosted it?", ps, 4),
            "Wikipedia Title: Jim Halsey\nJim Halsey is a\n\n"
            "Wikipedia Title: Roy Clark\nRoy Clark hosted Hee\n\n"
            "Q: Who hosted it?\nA:");
  // exactly five words: kept as written
  EXPECT_EQ(build_prompt("q", {ps[1]}, 5), "Wikipedia Title: Roy Clark\nRoy Clark hosted Hee Haw.\n\nQ: q\nA:");
  EXPECT_EQ(build_prompt("q", {}, 5), "Q: q\nA:");
  // a shown passage is already cut: rendering it again changes nothing
  EXPECT_EQ(render_prompt("Who hosted it?", {shown_passage(ps[0], 4), shown_passage(ps[1], 4)}),
            build_prompt("Who hosted it?", ps, 4));
  EXPECT_EQ(shown_passage(shown_passage(ps[0], 4), 4).text, "Jim Halsey is a");
  EXPECT_EQ(join_sentences({"A b.", "C d."}), " A b. C d.");
  EXPECT_EQ(join_sentences({}), "");
}

TEST(RagPrompt, FirstSentence) {
  EXPECT_EQ(first_sentence(" Roy Clark hosted Hee Haw. He sang."), "Roy Clark hosted Hee Haw.");
  EXPECT_EQ(first_sentence(" It has 3.5 million people. Next"), "It has 3.5 million people.");
  EXPECT_EQ(first_sentence("Is it? Yes."), "Is it?");
  EXPECT_EQ(first_sentence(" no end  "), "no end");
  EXPECT_EQ(first_sentence(" line one\nline two."), "line one");
  EXPECT_EQ(first_sentence("   "), "");
  EXPECT_EQ(first_sentence("So the answer is: U.S. Army."), "So the answer is: U.S.");  // IRCoT's rule, too
}

// ---- The loop

TEST(RagLoop, QueriesPerStepAndStop) {
  FakeRetriever r;
  r.table["hosted the show that Jim Halsey managed"] = {P("jh", "Jim Halsey")};
  r.table["Jim Halsey guided the career of Roy Clark."] = {P("rc", "Roy Clark"), P("jh", "Jim Halsey")};
  ScriptedWriter w;
  w.script["1"] = {"Jim Halsey guided the career of Roy Clark.", "So Roy Clark hosted Hee Haw.",
                   "So the answer is: Hee Haw."};
  RagOptions o;
  std::vector<Trace> ts = rag_run({Q("1", "Who hosted the show that Jim Halsey managed?", "Hee Haw")}, &r, w, o);
  ASSERT_EQ(ts.size(), 1u);
  const Trace& t = ts[0];
  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_EQ(t.steps[0].query, "hosted the show that Jim Halsey managed");
  EXPECT_EQ(t.steps[1].query, "Jim Halsey guided the career of Roy Clark.");
  EXPECT_EQ(t.steps[2].query, "");  // after a conclusion sentence: no retrieval
  ASSERT_EQ(t.steps[1].retrieved.size(), 2u);
  EXPECT_EQ(t.steps[1].retrieved[0].passage.id, "rc");
  EXPECT_TRUE(t.answered);
  EXPECT_EQ(t.answer, "Hee Haw");
  EXPECT_TRUE(t.correct);
  EXPECT_EQ(t.teacher, "scripted");
  // two retrieval rounds, passages accumulated without duplicates
  EXPECT_EQ(r.calls.size(), 2u);
  ASSERT_EQ(w.passage_ids_seen.size(), 3u);
  EXPECT_EQ(w.passage_ids_seen[0], (std::vector<std::string>{"jh"}));
  EXPECT_EQ(w.passage_ids_seen[1], (std::vector<std::string>{"jh", "rc"}));
  EXPECT_EQ(w.passage_ids_seen[2], (std::vector<std::string>{"jh", "rc"}));
}

TEST(RagLoop, AccumulationDedupAndCap) {
  FakeRetriever r;
  r.table["q"] = {P("a", "A"), P("b", "B")};
  r.table["s1."] = {P("b", "B"), P("c", "C")};
  r.table["s2."] = {P("d", "D"), P("e", "E")};
  ScriptedWriter w;
  w.script["1"] = {"s1.", "s2.", "s3."};
  RagOptions o;
  o.loop.max_passages = 4;
  o.loop.max_steps = 3;
  std::vector<Trace> ts = rag_run({Q("1", "q", "x")}, &r, w, o);
  EXPECT_EQ(w.passage_ids_seen[1], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(w.passage_ids_seen[2], (std::vector<std::string>{"a", "b", "c", "d"}));  // capped at 4
  EXPECT_EQ(ts[0].steps[2].retrieved.size(), 2u);  // the trace keeps what retrieval returned
  EXPECT_FALSE(ts[0].answered);  // stopped by max_steps
  EXPECT_EQ(ts[0].end, TraceEnd::kMaxSteps);
  EXPECT_EQ(ts[0].steps.size(), 3u);
  // what each step added to the prompt: new ids only, within the cap
  auto ids = [](const std::vector<Passage>& ps) {
    std::vector<std::string> out;
    for (const auto& p : ps) out.push_back(p.id);
    return out;
  };
  EXPECT_EQ(ids(ts[0].steps[0].shown), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ids(ts[0].steps[1].shown), (std::vector<std::string>{"c"}));
  EXPECT_EQ(ids(ts[0].steps[2].shown), (std::vector<std::string>{"d"}));
  EXPECT_EQ(ts[0].loop.max_passages, 4);
  EXPECT_EQ(ts[0].answer, "");
}

TEST(RagLoop, KIsPassedToRetrieval) {
  FakeRetriever r;
  r.table["q"] = {P("a", "A"), P("b", "B"), P("c", "C")};
  ScriptedWriter w;
  w.script["1"] = {"So the answer is: x."};
  RagOptions o;
  o.loop.k = 2;
  std::vector<Trace> ts = rag_run({Q("1", "q", "x")}, &r, w, o);
  EXPECT_EQ(ts[0].steps[0].retrieved.size(), 2u);
}

TEST(RagLoop, LmWriterSeesExactPrompt) {
  FakeRetriever r;
  r.table["was the director of Film X born"] = {P("d", "Film X", "Film X was directed by Ann Bo.")};
  r.table["Film X was directed by Ann Bo."] = {P("b", "Ann Bo", "Ann Bo was born in Lima.")};
  FakeGenerator g;
  g.script = [](const std::string& prompt) -> std::string {
    if (prompt.find("Ann Bo was born") != std::string::npos) return " So the answer is: Lima. Extra words.";
    return " Film X was directed by Ann Bo. Then more";
  };
  RagOptions o;
  o.prompt_prefix = "DEMO\n\n";
  o.max_sentence_tokens = 17;
  LmStepWriter w(g, o);
  std::vector<Trace> ts = rag_run({Q("1", "Where was the director of Film X born?", "Lima")}, &r, w, o);
  ASSERT_EQ(g.calls.size(), 2u);
  EXPECT_EQ(g.calls[0][0].prompt,
            "DEMO\n\nWikipedia Title: Film X\nFilm X was directed by Ann Bo.\n\n"
            "Q: Where was the director of Film X born?\nA:");
  EXPECT_EQ(g.calls[1][0].prompt,
            "DEMO\n\nWikipedia Title: Film X\nFilm X was directed by Ann Bo.\n\n"
            "Wikipedia Title: Ann Bo\nAnn Bo was born in Lima.\n\n"
            "Q: Where was the director of Film X born?\nA: Film X was directed by Ann Bo.");
  EXPECT_EQ(g.calls[0][0].max_tokens, 17);
  EXPECT_EQ(g.calls[0][0].stop, (std::vector<std::string>{"\n"}));
  ASSERT_EQ(ts[0].steps.size(), 2u);
  EXPECT_EQ(ts[0].steps[1].sentence, "So the answer is: Lima.");
  EXPECT_EQ(ts[0].answer, "Lima");
  EXPECT_TRUE(ts[0].correct);
  EXPECT_EQ(ts[0].teacher, "fake");
}

TEST(RagLoop, EmptyGenerationEndsUnanswered) {
  FakeRetriever r;
  FakeGenerator g;
  g.script = [](const std::string&) { return std::string("  "); };
  RagOptions o;
  LmStepWriter w(g, o);
  std::vector<Trace> ts = rag_run({Q("1", "q", "x")}, &r, w, o);
  ASSERT_EQ(ts[0].steps.size(), 1u);
  EXPECT_EQ(ts[0].steps[0].sentence, "");
  EXPECT_FALSE(ts[0].answered);
  EXPECT_EQ(ts[0].end, TraceEnd::kEmptySentence);
}

TEST(RagLoop, SingleAndNoneModes) {
  FakeRetriever r;
  r.table["q"] = {P("a", "A")};
  r.table["s1."] = {P("b", "B")};
  ScriptedWriter w;
  w.script["1"] = {"s1.", "s2.", "So the answer is: x."};
  RagOptions o;
  o.loop.mode = RagMode::kSingle;
  std::vector<Trace> single = rag_run({Q("1", "q", "x")}, &r, w, o);
  EXPECT_EQ(r.calls.size(), 1u);
  ASSERT_EQ(single[0].steps.size(), 3u);
  EXPECT_EQ(single[0].steps[0].query, "q");
  EXPECT_EQ(single[0].steps[1].query, "");
  EXPECT_EQ(w.passage_ids_seen[2], (std::vector<std::string>{"a"}));
  EXPECT_TRUE(single[0].answered);

  o.loop.mode = RagMode::kNone;
  ScriptedWriter w2;
  w2.script = w.script;
  std::vector<Trace> none = rag_run({Q("1", "q", "x")}, nullptr, w2, o);
  EXPECT_EQ(none[0].steps.size(), 3u);
  for (const auto& ids : w2.passage_ids_seen) EXPECT_TRUE(ids.empty());
  for (const auto& s : none[0].steps) EXPECT_EQ(s.query, "");

  o.loop.mode = RagMode::kMulti;
  EXPECT_THROW(rag_run({Q("1", "q", "x")}, nullptr, w2, o), Error);
  EXPECT_EQ(rag_mode_from_string("single"), RagMode::kSingle);
  try {
    rag_mode_from_string("multy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--mode"), std::string::npos);
  }
}

// A generator whose sentence depends on everything in the prompt, so any difference in passages or
// sentences between batched and one-at-a-time runs shows in the traces.
std::string prompt_hash_script(const std::string& prompt) {
  size_t h = std::hash<std::string>{}(prompt);
  size_t titles = 0;
  for (size_t at = prompt.find("Wikipedia Title:"); at != std::string::npos; at = prompt.find("Wikipedia Title:", at + 1))
    ++titles;
  size_t a = prompt.rfind("\nA:");
  size_t sentences = 0;
  for (size_t i = a; i < prompt.size(); ++i) sentences += prompt[i] == '.';
  if (sentences + (h % 3) >= 4) return " So the answer is: w" + std::to_string(h % 5) + ".";
  return " w" + std::to_string(h % 7) + " w" + std::to_string(titles) + ". tail";
}

TEST(RagLoop, BatchingEqualsOneAtATime) {
  std::vector<Question> qs;
  for (int i = 0; i < 9; ++i) qs.push_back(Q(std::to_string(i), "question w" + std::to_string(i), "w1"));
  auto make_retriever = [] {
    auto r = std::make_unique<FakeRetriever>();
    for (int i = 0; i < 9; ++i) {
      r->table["question w" + std::to_string(i)] = {P("p" + std::to_string(i), "T" + std::to_string(i)),
                                                    P("p" + std::to_string(i + 1), "T" + std::to_string(i + 1))};
      for (int t = 0; t < 12; ++t)
        r->table["w" + std::to_string(i % 7) + " w" + std::to_string(t) + "."] = {
            P("p" + std::to_string((i * 3 + t) % 11), "T" + std::to_string((i * 3 + t) % 11))};
    }
    return r;
  };
  auto run = [&](int batch, size_t* writer_calls, size_t* search_calls) {
    auto r = make_retriever();
    FakeGenerator g;
    g.script = prompt_hash_script;
    RagOptions o;
    o.batch_size = batch;
    o.loop.max_steps = 6;
    LmStepWriter w(g, o);
    std::vector<std::string> order;
    std::vector<Trace> ts = rag_run(qs, r.get(), w, o, [&](const Trace& t) { order.push_back(t.id); });
    EXPECT_EQ(order.size(), qs.size());
    *writer_calls = g.calls.size();
    *search_calls = r->calls.size();
    size_t max_in_flight = 0;
    for (const auto& c : g.calls) max_in_flight = std::max(max_in_flight, c.size());
    EXPECT_LE(max_in_flight, static_cast<size_t>(batch));
    return ts;
  };
  size_t w1 = 0, s1 = 0, w4 = 0, s4 = 0, w32 = 0, s32 = 0;
  std::vector<Trace> one = run(1, &w1, &s1), four = run(4, &w4, &s4), all = run(32, &w32, &s32);
  ASSERT_EQ(one.size(), qs.size());
  size_t total_steps = 0, longest = 0;
  for (size_t i = 0; i < qs.size(); ++i) {
    EXPECT_EQ(one[i].id, qs[i].id);
    for (const auto* other : {&four[i], &all[i]}) {
      ASSERT_EQ(one[i].steps.size(), other->steps.size());
      for (size_t s = 0; s < one[i].steps.size(); ++s) {
        EXPECT_EQ(one[i].steps[s].query, other->steps[s].query);
        EXPECT_EQ(one[i].steps[s].sentence, other->steps[s].sentence);
        EXPECT_EQ(one[i].steps[s].retrieved.size(), other->steps[s].retrieved.size());
      }
      EXPECT_EQ(one[i].answer, other->answer);
      EXPECT_EQ(one[i].answered, other->answered);
    }
    total_steps += one[i].steps.size();
    longest = std::max(longest, one[i].steps.size());
  }
  EXPECT_EQ(w1, total_steps);  // one question at a time: one writer call per step
  EXPECT_EQ(w32, longest);     // all in flight: one writer call per round
  EXPECT_LT(w4, w1);
  EXPECT_LE(s32, w32);
  size_t answered = 0;
  for (const auto& t : one) answered += t.answered;
  EXPECT_GT(answered, 0u);  // the script exercises both endings
  EXPECT_LT(answered, qs.size() + 1);
}

// ---- The gold writer on a world-like example (context paragraphs and supporting facts)

Question world_question() {
  Question q;
  q.id = "w1";
  q.question = "Which city was the founder of Velmora Works born in?";
  q.answers = {"Quorath", "Quorath City"};
  q.type = "bridge";
  q.hops = 2;
  q.context = {ContextParagraph{"Velmora Works", {"Velmora Works is a pottery studio.", " It was founded by Idris Tamm. "}},
               ContextParagraph{"Idris Tamm", {"Idris Tamm was born in Quorath.", "He likes tea."}},
               ContextParagraph{"Distractor", {"Nothing here."}}};
  q.supporting_facts = {SupportingFact{"Velmora Works", 1}, SupportingFact{"Idris Tamm", 0}};
  return q;
}

TEST(RagGold, WritesSupportingFactsThenAnswer) {
  Question q = world_question();
  FakeRetriever r;
  r.table["city was the founder of Velmora Works born in"] = {P("vw", "Velmora Works"), P("x", "Distractor")};
  r.table["It was founded by Idris Tamm."] = {P("it", "Idris Tamm")};
  GoldReader w;
  RagOptions o;
  std::vector<Trace> ts = rag_run({q}, &r, w, o);
  const Trace& t = ts[0];
  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_EQ(t.steps[0].sentence, "It was founded by Idris Tamm.");
  EXPECT_EQ(t.steps[1].sentence, "Idris Tamm was born in Quorath.");
  EXPECT_EQ(t.steps[2].sentence, "So the answer is: Quorath.");
  EXPECT_EQ(t.steps[1].query, "It was founded by Idris Tamm.");
  EXPECT_EQ(t.steps[1].retrieved.at(0).passage.title, "Idris Tamm");
  EXPECT_EQ(t.steps[2].query, "Idris Tamm was born in Quorath.");
  EXPECT_TRUE(t.answered);
  EXPECT_TRUE(t.correct);
  EXPECT_EQ(t.teacher, "gold");

  // without context: the sentence comes from the retrieved passage of that title
  Question bare = q;
  bare.context.clear();
  FakeRetriever r2;
  r2.table["city was the founder of Velmora Works born in"] = {
      P("vw", "Velmora Works", "Velmora Works is a pottery studio. It was founded by Idris Tamm.")};
  r2.table["It was founded by Idris Tamm."] = {P("it", "Idris Tamm", "Idris Tamm was born in Quorath. He likes tea.")};
  std::vector<Trace> ts2 = rag_run({bare}, &r2, w, o);
  ASSERT_EQ(ts2[0].steps.size(), 3u);
  EXPECT_EQ(ts2[0].steps[0].sentence, "It was founded by Idris Tamm.");
  EXPECT_EQ(ts2[0].steps[1].sentence, "Idris Tamm was born in Quorath.");
}

TEST(RagGold, QuestionWithoutSupportingFactsEndsWithThatReason) {
  GoldReader w;
  RagOptions o;
  o.loop.mode = RagMode::kNone;
  std::vector<Trace> ts = rag_run({Q("nofacts", "q", "x")}, nullptr, w, o);
  EXPECT_EQ(ts[0].end, TraceEnd::kNoSupportingFacts);
  EXPECT_TRUE(ts[0].steps.empty());
  EXPECT_FALSE(ts[0].answered);
}

TEST(RagGold, ReadsOnlyWhatThePromptShows) {
  Question q = world_question();
  // step 1 finds the first paragraph; step 2's query finds only the distractor
  FakeRetriever r;
  r.table["city was the founder of Velmora Works born in"] = {P("vw", "Velmora Works")};
  r.table["It was founded by Idris Tamm."] = {P("x", "Distractor")};
  RagOptions o;
  GoldReader gold;
  std::vector<Trace> ts = rag_run({q}, &r, gold, o);
  ASSERT_EQ(ts[0].steps.size(), 1u);  // the second fact's paragraph never shown: no second sentence
  EXPECT_EQ(ts[0].steps[0].sentence, "It was founded by Idris Tamm.");
  EXPECT_EQ(ts[0].end, TraceEnd::kEvidenceMissing);
  EXPECT_NE(ts[0].end_detail.find("Idris Tamm"), std::string::npos);
  EXPECT_FALSE(ts[0].answered);
  EXPECT_EQ(ts[0].answer, "");  // no sentinel text stands in for an answer

  // single-step retrieval: the bridge paragraph is never retrieved, so the gold reader stops early,
  // while the oracle copies from the context whatever retrieval brought
  r.table["It was founded by Idris Tamm."] = {P("it", "Idris Tamm")};
  o.loop.mode = RagMode::kSingle;
  EXPECT_EQ(rag_run({q}, &r, gold, o)[0].end, TraceEnd::kEvidenceMissing);
  GoldReader oracle(GoldPolicy::kOracle);
  Trace t = rag_run({q}, &r, oracle, o)[0];
  EXPECT_TRUE(t.correct);
  EXPECT_EQ(t.teacher, "oracle");
  o.loop.mode = RagMode::kMulti;
  EXPECT_TRUE(rag_run({q}, &r, gold, o)[0].correct);
}

TEST(RagGold, WithoutContextTheSentenceMustBeWithinTheShownWords) {
  Question q = world_question();
  q.context.clear();
  FakeRetriever r;
  r.table["city was the founder of Velmora Works born in"] = {
      P("vw", "Velmora Works", "Velmora Works is a pottery studio. It was founded by Idris Tamm.")};
  RagOptions o;
  o.loop.passage_words = 5;  // the prompt holds "Velmora Works is a pottery": sentence 1 is not shown
  GoldReader gold;
  Trace t = rag_run({q}, &r, gold, o)[0];
  EXPECT_EQ(t.end, TraceEnd::kEvidenceMissing);
  EXPECT_TRUE(t.steps.empty());
}

TEST(RagGold, ImpossibleSupportingFactIsADataError) {
  Question q = world_question();
  q.supporting_facts[0].sent_id = 7;
  FakeRetriever r;
  r.table["city was the founder of Velmora Works born in"] = {P("vw", "Velmora Works")};
  GoldReader gold;
  try {
    rag_run({q}, &r, gold, RagOptions{});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("w1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("beyond"), std::string::npos) << e.what();
  }
}

TEST(RagLoop, OptionsAreValidatedNamingTheFlag) {
  for (auto [field, flag] : {std::pair<int LoopOptions::*, const char*>{&LoopOptions::k, "-k"},
                             {&LoopOptions::max_steps, "--max-steps"},
                             {&LoopOptions::max_passages, "--max-passages"},
                             {&LoopOptions::passage_words, "--passage-words"}}) {
    LoopOptions l;
    l.*field = 0;
    try {
      validate_loop_options(l);
      FAIL() << flag;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(flag, 0), 0u) << e.what();
    }
  }
}

// ---- The evaluation runner

TEST(RagEval, WritesPredictionsAndMetrics) {
  Question q = world_question();
  Question q2 = world_question();
  q2.id = "w2";
  q2.answers = {"Elsewhere"};
  FakeRetriever r;
  r.table["city was the founder of Velmora Works born in"] = {P("vw", "Velmora Works")};
  r.table["It was founded by Idris Tamm."] = {P("it", "Idris Tamm")};
  ScriptedWriter w;
  w.script["w1"] = {"It was founded by Idris Tamm.", "So the answer is: Quorath."};
  w.script["w2"] = {"It was founded by Idris Tamm.", "So the answer is: Quorath."};
  EvalConfig c;
  c.out_dir = std::string(STEPER_BINARY_DIR) + "/tests/rag/eval_out";
  c.show_progress = false;
  c.print_table = false;
  c.report.bootstrap_samples = 100;
  EvalResult res = eval_run({q, q2}, &r, w, c);
  EXPECT_EQ(res.metrics["n"], 2);
  EXPECT_DOUBLE_EQ(res.metrics["em"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(res.metrics["recall"].get<double>(), 100.0);
  EXPECT_EQ(res.metrics["mode"], "multi");
  auto lines = read_jsonl(c.out_dir + "/predictions.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["id"], "w1");
  EXPECT_EQ(lines[0]["em"], 1.0);
  EXPECT_EQ(lines[1]["em"], 0.0);
  EXPECT_EQ(lines[0]["steps"][1]["passages"][0]["title"], "Idris Tamm");
  std::string text = format_trace_text(res.traces[0]);
  EXPECT_NE(text.find("Q: Which city was the founder of Velmora Works born in?"), std::string::npos) << text;
  EXPECT_NE(text.find("step 2\n  query:     It was founded by Idris Tamm.\n  passages:  Idris Tamm (10.00)\n"
                      "  sentence:  So the answer is: Quorath.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("answer: Quorath\n"), std::string::npos) << text;
  nlohmann::json m = read_json(c.out_dir + "/metrics.json");
  EXPECT_EQ(m["n"], 2);
  EXPECT_EQ(m["by_type"]["bridge"]["n"], 2);
}


// ---- Prompts fitted to the model's context

// Tokens counted as whitespace-separated words: the fitted prompts below are worked out by hand.
int64_t words_of(const std::string& text) {
  int64_t n = 0;
  bool in = false;
  for (char c : text) {
    bool sp = c == ' ' || c == '\n';
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

std::string ten_words(const std::string& w) {
  std::string t;
  for (int i = 0; i < 10; ++i) t += (i ? " " : "") + w + std::to_string(i);
  return t;
}

// A block is 13 words ("Wikipedia Title: T" and 10 words of text), "Q: what is x?\nA:" 5.
TEST(PromptFit, EarliestPassagesGoFirstThenTheNextComesBackCut) {
  std::vector<Passage> ps = {P("1", "A", ten_words("a")), P("2", "B", ten_words("b")), P("3", "C", ten_words("c"))};
  auto render = [](const std::vector<Passage>& shown) { return render_prompt("what is x?", shown); };
  PromptFit whole = fit_prompt(ps, 44, render, words_of);
  EXPECT_FALSE(whole.fitted());
  EXPECT_EQ(whole.tokens, 44);
  // 44 words into 30: A and B out leaves 18; B back with 9 of its words makes 30
  PromptFit f = fit_prompt(ps, 30, render, words_of);
  EXPECT_TRUE(f.fits);
  EXPECT_EQ(f.dropped, 1);
  EXPECT_EQ(f.words, 9);
  EXPECT_EQ(f.tokens, 30);
  std::vector<Passage> kept = fitted_passages(ps, f.dropped, f.words);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].text, "b0 b1 b2 b3 b4 b5 b6 b7 b8");
  EXPECT_EQ(kept[1].text, ps[2].text);
  EXPECT_EQ(words_of(render(kept)), 30);
  // exactly the last block and the question: nothing comes back cut
  PromptFit last = fit_prompt(ps, 18, render, words_of);
  EXPECT_EQ(last.dropped, 2);
  EXPECT_EQ(last.words, 0);
  // room for a title but no word: the passage stays out
  PromptFit none = fit_prompt(ps, 8, render, words_of);
  EXPECT_TRUE(none.fits);
  EXPECT_EQ(none.dropped, 3);
  EXPECT_EQ(none.words, 0);
  EXPECT_FALSE(fit_prompt(ps, 4, render, words_of).fits);
}

// A generator with a context of `context` tokens counted as words.
class SmallContextGenerator : public FakeGenerator {
 public:
  int64_t context = 40;
  int64_t context_tokens() const override { return context; }
  int64_t prompt_tokens(const std::string& prompt) const override { return words_of(prompt); }
};

TEST(PromptFit, TheLoopFitsEachStepRecordsItAndEndsWhenNoRoomIsLeft) {
  FakeRetriever r;
  r.table["x"] = {P("1", "A", ten_words("a")), P("2", "B", ten_words("b")), P("3", "C", ten_words("c"))};
  SmallContextGenerator g;
  g.context = 40;  // with max_sentence_tokens 10: prompts of 30 words at most
  g.script = [](const std::string&) { return " one two three four five six seven eight nine ten."; };
  RagOptions o;
  o.max_sentence_tokens = 10;
  o.loop.k = 3;
  LmStepWriter w(g, o);
  Question q = Q("q1", "what is x?", "y");
  std::vector<Trace> t = rag_run({q}, &r, w, o);
  ASSERT_EQ(t.size(), 1u);
  // step 1: 44 words -> B cut to 9 (as above); step 2 adds 10 words of sentence (54): A and B out leaves C
  // whole (28), no room for a word of B; step 3 adds 10 more (64): C out leaves 25, C back with 2 words;
  // step 4 takes 35 words without a passage: no room left
  ASSERT_EQ(t[0].steps.size(), 3u);
  EXPECT_EQ(t[0].steps[0].fit_dropped, 1);
  EXPECT_EQ(t[0].steps[0].fit_words, 9);
  EXPECT_EQ(t[0].steps[1].fit_dropped, 2);
  EXPECT_EQ(t[0].steps[1].fit_words, 0);
  EXPECT_EQ(t[0].steps[2].fit_dropped, 2);
  EXPECT_EQ(t[0].steps[2].fit_words, 2);
  EXPECT_EQ(t[0].end, TraceEnd::kContextFull);
  for (const auto& call : g.calls)
    for (const auto& req : call) EXPECT_LE(words_of(req.prompt) + req.max_tokens, g.context) << req.prompt;
  // the trace file keeps the fit, and P<=s is what each prompt showed
  Trace back = trace_from_json(nlohmann::json::parse(to_json(t[0]).dump()), "t.jsonl:1");
  EXPECT_EQ(back.steps[2].fit_dropped, 2);
  EXPECT_EQ(back.steps[2].fit_words, 2);
  EXPECT_EQ(shown_by_step(back)[2][0].text, "c0 c1");
  EXPECT_EQ(prompt_fit_counts(t)["prompts"], 3);
  EXPECT_EQ(prompt_fit_counts(t)["context_full"], 1);
  // a question that alone leaves no room stops the run, naming it
  g.context = 14;
  EXPECT_NE(error_of([&] { rag_run({q}, &r, w, o); }).find("question q1"), std::string::npos);
}

TEST(PromptFit, AFitThatDropsMoreThanP_sHoldsIsRefusedInATraceFile) {
  FakeRetriever r;
  r.table["x"] = {P("1", "A", ten_words("a"))};
  SmallContextGenerator g;
  g.script = [](const std::string&) { return " So the answer is: y."; };
  RagOptions o;
  o.max_sentence_tokens = 10;
  LmStepWriter w(g, o);
  nlohmann::json j = to_json(rag_run({Q("q1", "what is x?", "y")}, &r, w, o)[0]);
  EXPECT_EQ(j["steps"][0].count("fit"), 0u);  // a prompt that fits is recorded as before
  j["steps"][0]["fit"] = {{"dropped", 2}, {"words", 0}};
  EXPECT_NE(error_of([&] { trace_from_json(j, "t.jsonl:1"); }).find("t.jsonl:1: steps[0]: fit"), std::string::npos);
}

}  // namespace
}  // namespace steper
