// StepER examples from a hand-made trace, against prompts and targets spelled out by hand, and from
// traces of the loop itself, against the prompts its writer had at each step.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/evidence.h"
#include "core/trace_json.h"
#include "distill/examples.h"
#include "rag/evaluate.h"
#include "rag/framework.h"
#include "rag/loop.h"
#include "rag/prompt_fit.h"
#include "text/tokenizer.h"

namespace steper {
namespace {

ScoredPassage sp(const std::string& id, const std::string& title, const std::string& text) {
  ScoredPassage p;
  p.passage = {id, title, text};
  p.score = 1.0;
  return p;
}

// The Hee Haw example of the paper, with a duplicate passage at steps 2 and 3.
Trace hee_haw_trace() {
  Trace t;
  t.id = "q1";
  t.question = "Which show was hosted by the musician whose career Jim Halsey guided?";
  t.answers = {"Hee Haw"};
  TraceStep s1;
  s1.query = "show hosted by musician career Jim Halsey guided";
  s1.retrieved = {sp("p1", "Jim Halsey", "Jim Halsey is an American talent manager."),
                  sp("p2", "Roy Acuff", "Roy Acuff was a country singer.")};
  s1.sentence = "Jim Halsey guided the career of Roy Clark.";
  TraceStep s2;
  s2.query = "Jim Halsey guided the career of Roy Clark.";
  s2.retrieved = {sp("p1", "Jim Halsey", "Jim Halsey is an American talent manager."),
                  sp("p3", "Roy Clark", "Roy Clark hosted Hee Haw for decades.")};
  s2.sentence = "Roy Clark hosted Hee Haw.";
  TraceStep s3;
  s3.query = "Roy Clark hosted Hee Haw.";
  s3.retrieved = {sp("p4", "Hee Haw", "Hee Haw is a television variety show."),
                  sp("p3", "Roy Clark", "Roy Clark hosted Hee Haw for decades.")};
  s3.sentence = "So the answer is: Hee Haw.";
  t.steps = {s1, s2, s3};
  t.answer = "Hee Haw";
  t.answered = true;
  t.correct = true;
  return t;
}

// The examples of a trace without a loop record, built as the loop with `given` would have shown it.
std::vector<StepExample> examples_of(Trace t, LoopOptions given = {}) {
  std::vector<Trace> ts = {std::move(t)};
  EXPECT_EQ(resolve_loop_options(ts, given, false, "traces.jsonl"), 1u);
  return build_step_examples(ts[0]);
}

const char* kQ = "Q: Which show was hosted by the musician whose career Jim Halsey guided?\nA:";
const char* kP1 = "Wikipedia Title: Jim Halsey\nJim Halsey is an American talent manager.\n\n";
const char* kP2 = "Wikipedia Title: Roy Acuff\nRoy Acuff was a country singer.\n\n";
const char* kP3 = "Wikipedia Title: Roy Clark\nRoy Clark hosted Hee Haw for decades.\n\n";
const char* kP4 = "Wikipedia Title: Hee Haw\nHee Haw is a television variety show.\n\n";

// ---- the three tasks of a 3-step trace

TEST(Examples, ThreeStepTraceGivesInitExpAgg) {
  auto ex = examples_of(hee_haw_trace());
  ASSERT_EQ(ex.size(), 3u);

  EXPECT_EQ(ex[0].id, "q1/init/1");
  EXPECT_EQ(ex[0].task, Task::kInit);
  EXPECT_EQ(ex[0].step, 1);
  EXPECT_EQ(ex[0].prompt,
            "Wikipedia Title: Jim Halsey\nJim Halsey is an American talent manager.\n\n"
            "Wikipedia Title: Roy Acuff\nRoy Acuff was a country singer.\n\n"
            "Q: Which show was hosted by the musician whose career Jim Halsey guided?\nA:");
  EXPECT_EQ(ex[0].target, " Jim Halsey guided the career of Roy Clark.");

  EXPECT_EQ(ex[1].id, "q1/exp/2");
  EXPECT_EQ(ex[1].task, Task::kExp);
  EXPECT_EQ(ex[1].step, 2);
  EXPECT_EQ(ex[1].prompt,
            "Wikipedia Title: Jim Halsey\nJim Halsey is an American talent manager.\n\n"
            "Wikipedia Title: Roy Acuff\nRoy Acuff was a country singer.\n\n"
            "Wikipedia Title: Roy Clark\nRoy Clark hosted Hee Haw for decades.\n\n"
            "Q: Which show was hosted by the musician whose career Jim Halsey guided?\nA:");
  EXPECT_EQ(ex[1].target, " Jim Halsey guided the career of Roy Clark. Roy Clark hosted Hee Haw.");

  EXPECT_EQ(ex[2].id, "q1/agg/3");
  EXPECT_EQ(ex[2].task, Task::kAgg);
  EXPECT_EQ(ex[2].step, 3);
  EXPECT_EQ(ex[2].prompt,
            "Wikipedia Title: Jim Halsey\nJim Halsey is an American talent manager.\n\n"
            "Wikipedia Title: Roy Acuff\nRoy Acuff was a country singer.\n\n"
            "Wikipedia Title: Roy Clark\nRoy Clark hosted Hee Haw for decades.\n\n"
            "Wikipedia Title: Hee Haw\nHee Haw is a television variety show.\n\n"
            "Q: Which show was hosted by the musician whose career Jim Halsey guided?\nA:");
  EXPECT_EQ(ex[2].target,
            " Jim Halsey guided the career of Roy Clark. Roy Clark hosted Hee Haw. So the answer is: Hee Haw.");
}

TEST(Examples, PassageCapKeepsTheFirstPassages) {
  LoopOptions l;
  l.max_passages = 3;
  auto ex = examples_of(hee_haw_trace(), l);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].prompt, std::string(kP1) + kP2 + kQ);
  EXPECT_EQ(ex[1].prompt, std::string(kP1) + kP2 + kP3 + kQ);
  EXPECT_EQ(ex[2].prompt, std::string(kP1) + kP2 + kP3 + kQ);  // Hee Haw arrives after the cap
}

// ---- short traces

TEST(Examples, OneStepTraceGivesOnlyAgg) {
  Trace t = hee_haw_trace();
  t.steps = {t.steps[2]};
  t.steps[0].retrieved.resize(1);
  auto ex = examples_of(t);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].id, "q1/agg/1");
  EXPECT_EQ(ex[0].task, Task::kAgg);
  EXPECT_EQ(ex[0].step, 1);
  EXPECT_EQ(ex[0].prompt, std::string(kP4) + kQ);
  EXPECT_EQ(ex[0].target, " So the answer is: Hee Haw.");
}

TEST(Examples, TwoStepTraceGivesInitAndAgg) {
  Trace t = hee_haw_trace();
  t.steps = {t.steps[0], t.steps[2]};
  auto ex = examples_of(t);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].id, "q1/init/1");
  EXPECT_EQ(ex[0].prompt, std::string(kP1) + kP2 + kQ);
  EXPECT_EQ(ex[0].target, " Jim Halsey guided the career of Roy Clark.");
  EXPECT_EQ(ex[1].id, "q1/agg/2");
  EXPECT_EQ(ex[1].step, 2);
  EXPECT_EQ(ex[1].prompt, std::string(kP1) + kP2 + kP4 + kP3 + kQ);
  EXPECT_EQ(ex[1].target, " Jim Halsey guided the career of Roy Clark. So the answer is: Hee Haw.");
}

TEST(Examples, UnansweredTraceGivesNothing) {
  Trace t = hee_haw_trace();
  t.steps.pop_back();
  t.answered = false;
  t.answer.clear();
  EXPECT_TRUE(examples_of(t).empty());
}

// ---- many traces

TEST(Examples, VanillaKeepsOnlyAgg) {
  Trace a = hee_haw_trace();
  Trace b = hee_haw_trace();
  b.id = "q2";
  b.steps = {b.steps[0], b.steps[2]};
  std::vector<Trace> ts = {a, b};
  resolve_loop_options(ts, LoopOptions{}, false, "traces.jsonl");
  auto steper = build_examples(ts, false);
  ASSERT_EQ(steper.size(), 5u);
  std::vector<std::string> ids;
  for (const auto& e : steper) ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"q1/init/1", "q1/exp/2", "q1/agg/3", "q2/init/1", "q2/agg/2"}));
  auto vanilla = build_examples(ts, true);
  ASSERT_EQ(vanilla.size(), 2u);
  EXPECT_EQ(vanilla[0].id, "q1/agg/3");
  EXPECT_EQ(vanilla[1].id, "q2/agg/2");
  EXPECT_EQ(vanilla[0].target, steper[2].target);
}

// ---- examples from the loop's own traces

// Answers the n-th query with rounds[n], at most k of them.
class RoundRetriever : public Retriever {
 public:
  std::vector<std::vector<Passage>> rounds;
  size_t calls = 0;
  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    std::vector<std::vector<ScoredPassage>> out;
    for (size_t i = 0; i < queries.size(); ++i) {
      std::vector<ScoredPassage> r;
      for (const auto& p : rounds.at(calls++))
        if (static_cast<int>(r.size()) < k) r.push_back({p, 1.0});
      out.push_back(r);
    }
    return out;
  }
  size_t size() const override { return 0; }
};

// Writes a fixed sentence per step and records the prompt it was given at each step.
class RecordingGenerator : public TextGenerator {
 public:
  std::vector<std::string> sentences, prompts;
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override {
    std::vector<GenerateResult> out;
    for (const auto& r : requests) {
      prompts.push_back(r.prompt);
      out.push_back({" " + sentences.at(prompts.size() - 1) + "\n", 0, 0});
    }
    return out;
  }
  std::string name() const override { return "recording"; }
};

TEST(Examples, EveryPromptIsTheWritersPromptAtThatStep) {
  auto words = [](const std::string& title, int n) {
    std::string t = title + " is";
    for (int i = 0; i < n; ++i) t += " w" + std::to_string(i);
    return t + ".";
  };
  RoundRetriever r;
  r.rounds = {{{"a", "A", words("A", 30)}, {"b", "B", words("B", 3)}, {"c", "C", words("C", 9)}, {"z", "Z", "never"}},
              {{"b", "B", words("B", 3)}, {"d", "D", words("D", 12)}},
              {{"e", "E", words("E", 40)}, {"f", "F", words("F", 2)}}};
  RecordingGenerator g;
  g.sentences = {"Jim Halsey guided Roy Clark.", "Roy Clark hosted Hee Haw.", "So the answer is: Hee Haw."};
  RagOptions o;  // every loop option away from its default
  o.loop.k = 3;
  o.loop.max_passages = 5;
  o.loop.passage_words = 6;
  o.loop.max_steps = 7;
  LmStepWriter w(g, o);
  Question q;
  q.id = "q1";
  q.question = "Which show did the musician whose career Jim Halsey guided host?";
  q.answers = {"Hee Haw"};
  Trace t = rag_run({q}, &r, w, o)[0];
  ASSERT_TRUE(t.answered);
  ASSERT_EQ(g.prompts.size(), 3u);

  // through the trace file's JSON form, as `steper examples` and `steper train` read it
  Trace back = trace_from_json(nlohmann::json::parse(to_json(t).dump()), "traces.jsonl:1");
  EXPECT_EQ(back.loop, o.loop);
  std::vector<StepExample> ex = build_step_examples(back);
  ASSERT_EQ(ex.size(), 3u);
  std::vector<std::string> before;  // R<s
  for (size_t s = 0; s < ex.size(); ++s) {
    // the example's prompt is the writer's prompt at step s+1, the sentences so far aside
    EXPECT_EQ(ex[s].prompt + join_sentences(before), g.prompts[s]) << "step " << s + 1;
    before.push_back(g.sentences[s]);
    size_t shown = 0;
    for (size_t at = ex[s].prompt.find("Wikipedia Title:"); at != std::string::npos;
         at = ex[s].prompt.find("Wikipedia Title:", at + 1))
      ++shown;
    EXPECT_LE(shown, 5u);
  }
  EXPECT_EQ(ex[2].prompt.find("w5"), std::string::npos);  // every passage cut to 6 words

  // a trace file made before traces recorded options: the same examples when the command line gives the
  // options the loop ran with, other examples with the defaults
  nlohmann::json old = to_json(t);
  old.erase("loop");
  for (auto& st : old["steps"]) st.erase("shown");
  std::vector<Trace> legacy = {trace_from_json(old, "old.jsonl:1")};
  EXPECT_FALSE(legacy[0].has_loop);
  std::vector<Trace> with_defaults = legacy;
  resolve_loop_options(legacy, o.loop, true, "old.jsonl");
  std::vector<StepExample> rebuilt = build_step_examples(legacy[0]);
  ASSERT_EQ(rebuilt.size(), ex.size());
  for (size_t s = 0; s < ex.size(); ++s) EXPECT_EQ(rebuilt[s].prompt, ex[s].prompt);
  resolve_loop_options(with_defaults, LoopOptions{}, false, "old.jsonl");
  EXPECT_NE(build_step_examples(with_defaults[0])[2].prompt, ex[2].prompt);

  // loop flags that disagree with what a trace recorded are refused, naming the file
  std::vector<Trace> recorded = {back};
  try {
    resolve_loop_options(recorded, LoopOptions{}, true, "new.jsonl");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("new.jsonl"), std::string::npos);
  }
  EXPECT_EQ(resolve_loop_options(recorded, LoopOptions{}, false, "new.jsonl"), 0u);  // defaults do not override
}

// A model whose context is 256 tokens, counted by the shipped base's tokenizer as a model folder counts
// them; like a model folder, it refuses a prompt that leaves no room for the sentence asked for.
class SmallContextGenerator : public RecordingGenerator {
 public:
  SmallContextGenerator() : tokenizer(Tokenizer::from_file(STEPER_SOURCE_DIR "/models/base-tiny/tokenizer.json")) {}
  Tokenizer tokenizer;
  int64_t context = 256;
  int64_t context_tokens() const override { return context; }
  int64_t prompt_tokens(const std::string& p) const override {
    return static_cast<int64_t>(tokenizer.encode(p, true).size());
  }
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override {
    for (const auto& r : requests)
      if (prompt_tokens(r.prompt) + r.max_tokens > context) throw Error("a prompt with no room left was sent");
    return RecordingGenerator::generate(requests);
  }
};

// Ten passages of 100 words of English prose a retrieval.
std::vector<Passage> english_passages(const std::string& round) {
  const std::string prose =
      "The river rises in the hills north of the old market town and runs south through farmland for most of its "
      "length. In the spring the water is high and fast, and the mills that once stood along its banks used that "
      "season to grind the grain stored over the winter. Most of the mills closed when the railway reached the "
      "valley, and the buildings that survive are now houses, a museum and a small school. The town holds a fair "
      "every autumn on the meadow beside the bridge, where farmers from the surrounding villages sell cattle, "
      "cheese and wool to visitors who come from the city by train. ";
  std::vector<std::string> words;
  for (size_t i = 0; i < prose.size();) {
    size_t j = prose.find(' ', i);
    words.push_back(prose.substr(i, j - i));
    i = j + 1;
  }
  std::vector<Passage> out;
  for (int p = 0; p < 10; ++p) {
    std::string text;
    for (int w = 0; w < 100; ++w) text += (w ? " " : "") + words[(p * 7 + w) % words.size()];
    out.push_back({round + std::to_string(p), "Passage " + round + std::to_string(p), text});
  }
  return out;
}

Question mills_question(const std::string& text) {
  Question q;
  q.id = "q1";
  q.question = text;
  q.answers = {"the railway"};
  return q;
}

TEST(Examples, PromptsFittedToA256TokenContextAreTheExamplesPrompts) {
  RoundRetriever r;
  r.rounds = {english_passages("a"), english_passages("b"), english_passages("c")};
  SmallContextGenerator g;
  g.sentences = {"The river rises in the hills north of the town.", "The mills closed when the railway came.",
                 "So the answer is: the railway."};
  RagOptions o;
  o.loop.k = 10;
  o.loop.max_passages = 15;
  o.loop.passage_words = 350;
  LmStepWriter w(g, o);
  const Question q = mills_question("Why did the mills on the river close?");
  std::vector<Trace> traces = rag_run({q}, &r, w, o);
  const Trace& t = traces[0];
  ASSERT_TRUE(t.answered);
  ASSERT_EQ(g.prompts.size(), 3u);
  EXPECT_EQ(prompt_fit_counts(traces)["prompts"], 3);  // what eval's metrics.json counts

  Trace back = trace_from_json(nlohmann::json::parse(to_json(t).dump()), "traces.jsonl:1");
  std::vector<StepExample> ex = build_step_examples(back);
  ASSERT_EQ(ex.size(), 3u);
  std::vector<std::vector<Passage>> shown = shown_by_step(back);
  std::vector<std::string> before;
  for (size_t s = 0; s < ex.size(); ++s) {
    EXPECT_TRUE(back.steps[s].fitted()) << "step " << s + 1;
    // what the trace says the step showed fits beside its sentence, and is what the model was given
    const std::string prompt = step_prompt(back.loop, q.question, shown[s], before);
    EXPECT_LE(g.prompt_tokens(prompt) + o.max_sentence_tokens, g.context) << "step " << s + 1;
    EXPECT_EQ(prompt, g.prompts[s]) << "step " << s + 1;
    // and the example built from the trace is that prompt byte for byte
    EXPECT_EQ(ex[s].prompt + join_sentences(before), g.prompts[s]) << "step " << s + 1;
    before.push_back(g.sentences[s]);
  }
  // the prompt keeps the latest passages: step 1's last passage is in it, its first is not
  EXPECT_NE(g.prompts[0].find("Passage a9\n"), std::string::npos);
  EXPECT_EQ(g.prompts[0].find("Passage a0\n"), std::string::npos);
}

TEST(Examples, APromptThatFitsIsTheSameWhetherTheContextIsKnownOrNot) {
  auto run = [](RecordingGenerator& g) {
    RoundRetriever r;
    r.rounds = {english_passages("a"), english_passages("b"), english_passages("c")};
    g.sentences = {"The river rises in the hills.", "The mills closed.", "So the answer is: the railway."};
    RagOptions o;
    o.loop.k = 2;
    o.loop.passage_words = 30;
    LmStepWriter w(g, o);
    return rag_run({mills_question("Why did the mills close?")}, &r, w, o)[0];
  };
  RecordingGenerator unknown;  // says no context: prompts go as they are, as before fitting existed
  SmallContextGenerator known;
  known.context = 2048;
  Trace a = run(unknown), b = run(known);
  ASSERT_EQ(known.prompts.size(), 3u);
  EXPECT_EQ(known.prompts, unknown.prompts);
  EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
  EXPECT_EQ(known.prompts[0].substr(0, 17), "Wikipedia Title: ");
  const std::string tail = "Q: Why did the mills close?\nA:";
  EXPECT_EQ(known.prompts[0].substr(known.prompts[0].size() - tail.size()), tail);
}

// ---- Self-Ask: init is the first follow-up and its intermediate answer, exp the pairs so far, agg every
// pair and the final answer

LoopOptions self_ask_options() {
  LoopOptions l;
  set_framework(l, "self-ask");
  return l;
}

const char* kSelfAskHeader =
    "Question: Which show was hosted by the musician whose career Jim Halsey guided?\n"
    "Are follow up questions needed here: Yes.\n";
const char* kPair1 = "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: Jim Halsey guided Roy Clark.\n";
const char* kPair2 = "Follow up: Which show did Roy Clark host?\nIntermediate answer: Roy Clark hosted Hee Haw.\n";

TEST(Examples, SelfAskTraceGivesPairsThenTheFinalAnswer) {
  Trace t = hee_haw_trace();
  t.loop = self_ask_options();
  t.has_loop = true;
  t.steps[0].sentence = "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: Jim Halsey guided Roy Clark.";
  t.steps[0].shown = {t.steps[0].retrieved[0].passage};
  t.steps[1].sentence = "Follow up: Which show did Roy Clark host?\nIntermediate answer: Roy Clark hosted Hee Haw.";
  t.steps[1].shown = {t.steps[1].retrieved[1].passage};
  t.steps[2] = TraceStep{};  // the final answer retrieves nothing
  t.steps[2].sentence = "So the final answer is: Hee Haw";
  std::vector<StepExample> ex = build_step_examples(t);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].task, Task::kInit);
  EXPECT_EQ(ex[0].prompt, std::string(kP1) + kSelfAskHeader);
  EXPECT_EQ(ex[0].target, kPair1);
  EXPECT_EQ(ex[1].task, Task::kExp);
  EXPECT_EQ(ex[1].step, 2);
  EXPECT_EQ(ex[1].prompt, std::string(kP1) + kP3 + kSelfAskHeader);
  EXPECT_EQ(ex[1].target, std::string(kPair1) + kPair2);
  EXPECT_EQ(ex[2].task, Task::kAgg);
  EXPECT_EQ(ex[2].step, 3);
  EXPECT_EQ(ex[2].prompt, std::string(kP1) + kP3 + kSelfAskHeader);
  EXPECT_EQ(ex[2].target, std::string(kPair1) + kPair2 + "So the final answer is: Hee Haw\n");
  std::vector<StepExample> vanilla = build_examples({t}, true);
  ASSERT_EQ(vanilla.size(), 1u);
  EXPECT_EQ(vanilla[0].target, ex[2].target);
}

TEST(Examples, UnknownFrameworkInATraceFileNamesTheFileAndTrace) {
  for (const auto& [framework, format] : std::vector<std::pair<std::string, std::string>>{
           {"react", "ircot-v1"}, {"self-ask", "ircot-v1"}}) {
    Trace t = hee_haw_trace();
    t.has_loop = true;
    t.loop.framework = framework;
    t.loop.prompt_format = format;
    std::vector<Trace> ts = {t};
    try {
      resolve_loop_options(ts, LoopOptions{}, false, "traces.jsonl");
      FAIL() << framework;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("traces.jsonl: trace q1"), std::string::npos) << e.what();
    }
  }
}

TEST(Examples, SelfAskEveryPromptIsTheWritersPromptAtThatStep) {
  RoundRetriever r;
  r.rounds = {{{"a", "A", "A is w0 w1 w2 w3 w4 w5 w6 w7."}, {"b", "B", "B is b."}},
              {{"b", "B", "B is b."}, {"c", "C", "C is c0 c1."}, {"d", "D", "D is d."}}};
  RecordingGenerator g;
  g.sentences = {"Follow up: Whose career did Jim Halsey guide?", "Jim Halsey guided Roy Clark.",
                 "Follow up: Which show did Roy Clark host?", "Roy Clark hosted Hee Haw.",
                 "So the final answer is: Hee Haw."};
  RagOptions o;
  o.loop = self_ask_options();
  o.loop.k = 3;
  o.loop.max_passages = 3;
  o.loop.passage_words = 4;
  LmStepWriter w(g, o);
  Question q;
  q.id = "q1";
  q.question = "Which show was hosted by the musician whose career Jim Halsey guided?";
  q.answers = {"Hee Haw"};
  Trace t = rag_run({q}, &r, w, o)[0];
  ASSERT_TRUE(t.answered);
  ASSERT_EQ(g.prompts.size(), 5u);  // two per follow-up, one for the final answer

  Trace back = trace_from_json(nlohmann::json::parse(to_json(t).dump()), "traces.jsonl:1");
  EXPECT_EQ(back.loop, o.loop);
  std::vector<StepExample> ex = build_step_examples(back);
  ASSERT_EQ(ex.size(), 3u);
  // each pair's prompt: the answer phase's prompt is the example's prompt, the pairs before and the follow-up
  EXPECT_EQ(ex[0].prompt + "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer:", g.prompts[1]);
  EXPECT_EQ(ex[1].prompt + "Follow up: Whose career did Jim Halsey guide?\nIntermediate answer: Jim Halsey guided Roy "
                           "Clark.\nFollow up: Which show did Roy Clark host?\nIntermediate answer:",
            g.prompts[3]);
  // the final answer's prompt is the agg example's prompt and every pair; each follow-up's prompt is the
  // example before it, target included
  EXPECT_EQ(ex[2].prompt + ex[1].target, g.prompts[4]);
  EXPECT_EQ(ex[0].prompt + ex[0].target, g.prompts[2]);
  EXPECT_EQ(g.prompts[0], kSelfAskHeader);  // the first follow-up is asked before anything is retrieved
  EXPECT_EQ(ex[2].prompt.find("w4"), std::string::npos);  // every passage cut to 4 words
  EXPECT_EQ(ex[2].prompt.find("Wikipedia Title: D"), std::string::npos);  // at most 3 passages
  EXPECT_NE(ex[2].prompt.find("Wikipedia Title: C\nC is c0 c1."), std::string::npos);
}

}  // namespace
}  // namespace steper
