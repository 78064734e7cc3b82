// The decode engine: continuous batching against the recompute-everything reference (use_cache=false),
// requests joining a running batch, cancelling, its counts, the context cap, prefix reuse, and the
// multi-step loop with and without prefix reuse.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/io.h"
#include "model/decode_engine.h"
#include "model/model.h"
#include "rag/loop.h"

namespace steper {
namespace {

namespace fs = std::filesystem;
constexpr int kContext = 256;

std::vector<std::string> engine_texts() {
  std::vector<std::string> texts;
  const char* names[] = {"Ansel Brook", "Mira Tollen", "Oskar Wend", "Pella Rusk"};
  const char* places[] = {"Carden Bay", "Estra Hall", "Fenwick Moor"};
  for (int i = 0; i < 48; ++i)
    texts.push_back(std::string(names[i % 4]) + " was born in " + places[i % 3] + ". So the answer is: " +
                    places[(i + 1) % 3] + ".");
  return texts;
}

// A random tiny model whose context is cut to 256 tokens (so the context cap is reached quickly).
struct EngineModel {
  std::string dir;
  std::unique_ptr<LanguageModel> lm;
  EngineModel() {
    dir = (fs::temp_directory_path() / ("steper_engine_" + std::to_string(getpid()))).string();
    fs::remove_all(dir);
    init_model_folder(engine_texts(), dir, "tiny", 3, 300);
    nlohmann::json c = read_json(dir + "/config.json");
    c["max_position_embeddings"] = kContext;
    write_json_atomic(dir + "/config.json", c);
    lm = LanguageModel::load(dir);
  }
  ~EngineModel() { fs::remove_all(dir); }
};

EngineModel& model() {
  static EngineModel m;
  return m;
}

std::vector<int32_t> encode(const std::string& s) { return model().lm->tokenizer().encode(s, true); }

TokenGenerateOptions greedy(int max_tokens) {
  TokenGenerateOptions o;
  o.max_tokens = max_tokens;
  o.stop_at_eos = false;
  return o;
}

std::vector<int32_t> reference(const std::vector<int32_t>& prompt, TokenGenerateOptions o) {
  o.use_cache = false;
  return model().lm->generate_ids({prompt}, o)[0];
}

TEST(DecodeEngineTest, GreedyBatchOfMixedLengthsEqualsRecomputed) {
  std::vector<std::vector<int32_t>> prompts = {encode("Ansel Brook was born in"), encode("Mira"),
                                               encode("Pella Rusk was born in Fenwick Moor. So the answer"),
                                               encode("Oskar Wend was")};
  const TokenGenerateOptions o = greedy(12);
  std::vector<std::vector<int32_t>> batched = model().lm->generate_ids(prompts, o);
  ASSERT_EQ(batched.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(batched[i].size(), 12u);
    EXPECT_EQ(batched[i], reference(prompts[i], o)) << "prompt " << i;
  }
}

TEST(DecodeEngineTest, RequestJoiningMidwayGetsItsOutputAlone) {
  DecodeEngine engine(*model().lm, 4);
  std::map<std::string, DecodeResult> done;
  auto request = [&](const std::string& name, const std::string& text, int max_tokens) {
    DecodeRequest r;
    r.prompt = encode(text);
    r.opts = greedy(max_tokens);
    r.on_done = [&done, name](const DecodeResult& res) { done[name] = res; };
    return r;
  };
  engine.submit(request("long", "Mira Tollen was born in Estra Hall.", 20));
  for (int i = 0; i < 6; ++i) engine.step();
  engine.submit(request("short", "Oskar", 10));
  engine.submit(request("mid", "Pella Rusk was born in", 8));
  engine.run();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done["long"].ids, reference(encode("Mira Tollen was born in Estra Hall."), greedy(20)));
  EXPECT_EQ(done["short"].ids, reference(encode("Oskar"), greedy(10)));
  EXPECT_EQ(done["mid"].ids, reference(encode("Pella Rusk was born in"), greedy(8)));
  for (auto& [name, r] : done) EXPECT_EQ(r.finish_reason, "length") << name;
}

TEST(DecodeEngineTest, CancelEndsARequest) {
  DecodeEngine engine(*model().lm, 4);
  std::vector<DecodeResult> results(2);
  DecodeRequest a;
  a.prompt = encode("Ansel Brook");
  a.opts = greedy(30);
  a.on_done = [&](const DecodeResult& r) { results[0] = r; };
  const uint64_t id = engine.submit(a);
  DecodeRequest b = a;
  int seen = 0;
  b.on_token = [&](int32_t, const std::string&) { return ++seen < 2; };  // refuses the second token
  b.on_done = [&](const DecodeResult& r) { results[1] = r; };
  engine.submit(b);
  for (int i = 0; i < 3; ++i) engine.step();  // three tokens each (the first from the prefill)
  engine.cancel(id);
  engine.run();
  EXPECT_EQ(results[0].finish_reason, "cancelled");
  EXPECT_EQ(results[0].ids.size(), 3u);
  EXPECT_EQ(results[1].finish_reason, "cancelled");
  EXPECT_EQ(results[1].ids.size(), 2u);
  EXPECT_EQ(seen, 2);
}

TEST(DecodeEngineTest, StatsCountRoundsTokensAndBatchSizes) {
  DecodeEngine engine(*model().lm, 2);
  for (int max_tokens : {3, 5, 2}) {
    DecodeRequest r;
    r.prompt = encode("Mira Tollen");
    r.opts = greedy(max_tokens);
    engine.submit(r);
  }
  DecodeEngine::Stats s = engine.stats();
  EXPECT_EQ(s.waiting, 3);
  engine.run();
  s = engine.stats();
  // rounds 1-3: the 3- and 5-token requests; rounds 4-5: the 5-token and (joining) 2-token ones.
  EXPECT_EQ(s.steps, 5u);
  EXPECT_EQ(s.tokens_generated, 10u);
  ASSERT_EQ(s.batch_size_counts.size(), 3u);
  EXPECT_EQ(s.batch_size_counts[1], 0u);
  EXPECT_EQ(s.batch_size_counts[2], 5u);
  EXPECT_EQ(s.active, 0);
  EXPECT_EQ(s.waiting, 0);
}

TEST(DecodeEngineTest, MaxTokensIsCappedByTheContext) {
  const std::vector<int32_t> prompt = encode("Ansel Brook was born in Carden Bay.");
  const size_t n = prompt.size();
  ASSERT_LT(n, static_cast<size_t>(kContext));
  std::vector<std::vector<int32_t>> out = model().lm->generate_ids({prompt}, greedy(1000000000));
  EXPECT_EQ(out[0].size(), kContext - n);
  std::vector<int32_t> full(kContext, prompt[0]);
  EXPECT_THROW(model().lm->generate_ids({full}, greedy(1)), Error);
  DecodeEngine engine(*model().lm, 2);
  DecodeRequest r;
  r.prompt = full;
  r.opts = greedy(4);
  EXPECT_THROW(engine.submit(r), Error);
}

TEST(DecodeEngineTest, PrefixReuseComputesOnlyTheRestWithTheSameOutput) {
  DecodeEngine engine(*model().lm, 4);
  engine.set_prefix_reuse(true, 1000);
  const std::vector<int32_t> first = encode("Ansel Brook was born in Carden Bay.");
  std::vector<int32_t> longer = first;
  for (int32_t t : encode(" Mira Tollen was")) longer.push_back(t);
  std::vector<int32_t> other = encode("Oskar Wend was born in");
  std::vector<DecodeResult> results(4);
  auto submit = [&](const std::vector<int32_t>& p, const std::string& key, size_t slot) {
    DecodeRequest r;
    r.prompt = p;
    r.opts = greedy(6);
    r.cache_key = key;
    r.on_done = [&results, slot](const DecodeResult& res) { results[slot] = res; };
    engine.submit(r);
  };
  submit(first, "a", 0);
  engine.run();
  EXPECT_EQ(results[0].reused_tokens, 0);
  EXPECT_EQ(engine.stats().kept_prefixes, 1u);
  submit(longer, "a", 1);  // extends the kept prompt
  submit(first, "b", 2);   // the kept prompt itself: all but its last token reused
  submit(other, "c", 3);   // shares at most a first token
  engine.run();
  EXPECT_EQ(results[1].reused_tokens, static_cast<int>(first.size()));
  EXPECT_EQ(results[2].reused_tokens, static_cast<int>(first.size()) - 1);
  EXPECT_EQ(results[1].ids, reference(longer, greedy(6)));
  EXPECT_EQ(results[2].ids, reference(first, greedy(6)));
  EXPECT_EQ(results[3].ids, reference(other, greedy(6)));
  EXPECT_EQ(engine.stats().kept_prefixes, 3u);  // a (replaced by the longer prompt), b, c
  engine.release("a");
  engine.release("b");
  engine.release("c");
  EXPECT_EQ(engine.stats().kept_prefixes, 0u);
  submit(longer, "", 1);
  engine.run();
  EXPECT_EQ(results[1].reused_tokens, 0);
}

TEST(DecodeEngineTest, PrefixCacheIsBoundedInTokens) {
  const std::vector<int32_t> a = encode("Ansel Brook was born"), b = encode("Mira Tollen was born"),
                             c = encode("Oskar Wend was");
  DecodeEngine engine(*model().lm, 4);
  engine.set_prefix_reuse(true, a.size() + b.size());
  DecodeResult last;
  auto run = [&](const std::vector<int32_t>& p, const std::string& key) {
    DecodeRequest r;
    r.prompt = p;
    r.opts = greedy(2);
    r.cache_key = key;
    r.on_done = [&last](const DecodeResult& res) { last = res; };
    engine.submit(r);
    engine.run();
    return last.reused_tokens;
  };
  run(a, "a");
  run(b, "b");
  EXPECT_EQ(engine.stats().kept_prefixes, 2u);
  EXPECT_EQ(run(a, ""), static_cast<int>(a.size()) - 1);  // a is kept, and now the most recently used
  run(c, "c");                                             // b, the least recently used, makes room
  EXPECT_EQ(engine.stats().kept_prefixes, 2u);
  EXPECT_LE(run(b, ""), 1);  // at most a shared first token
  EXPECT_EQ(run(a, ""), static_cast<int>(a.size()) - 1);
}

// Passages chosen by the words of the query, so that later steps bring new passages.
class WordRetriever : public Retriever {
 public:
  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    std::vector<std::vector<ScoredPassage>> out;
    for (const auto& q : queries) {
      std::vector<ScoredPassage> r;
      size_t h = std::hash<std::string>()(q);
      for (int i = 0; i < k; ++i) {
        const size_t n = (h + static_cast<size_t>(i) * 7) % 12;
        r.push_back(ScoredPassage{Passage{"p" + std::to_string(n), "Title " + std::to_string(n),
                                          engine_texts()[n]},
                                  1.0 / (i + 1)});
      }
      out.push_back(r);
    }
    return out;
  }
  size_t size() const override { return 12; }
};

TEST(DecodeEngineTest, LoopOutputsAreTheSameWithAndWithoutPrefixReuse) {
  std::vector<Question> questions;
  for (int i = 0; i < 6; ++i)
    questions.push_back(Question{"q" + std::to_string(i), "Where was " + engine_texts()[i].substr(0, 10) + " born?",
                                 {"Carden Bay"}, "bridge", 2, {}, {}});
  RagOptions opts;
  opts.loop.mode = RagMode::kMulti;
  opts.loop.k = 2;
  opts.loop.max_steps = 3;
  opts.loop.max_passages = 4;
  opts.loop.passage_words = 8;
  opts.max_sentence_tokens = 4;
  opts.batch_size = 4;
  LanguageModel& lm = *model().lm;
  WordRetriever retriever;
  auto run = [&](bool reuse) {
    lm.set_prefix_reuse(reuse);
    LmStepWriter writer(lm, opts);
    const uint64_t reused_before = lm.engine().stats().reused_tokens;
    std::vector<Trace> traces = rag_run(questions, &retriever, writer, opts);
    return std::make_pair(traces, lm.engine().stats().reused_tokens - reused_before);
  };
  auto [plain, plain_reused] = run(false);
  auto [reusing, reused] = run(true);
  EXPECT_EQ(plain_reused, 0u);
  EXPECT_GT(reused, 0u);
  EXPECT_EQ(lm.engine().stats().kept_prefixes, 0u);  // every finished question released its cache
  ASSERT_EQ(plain.size(), reusing.size());
  size_t steps = 0;
  for (size_t i = 0; i < plain.size(); ++i) {
    ASSERT_EQ(plain[i].steps.size(), reusing[i].steps.size()) << plain[i].id;
    for (size_t s = 0; s < plain[i].steps.size(); ++s)
      EXPECT_EQ(plain[i].steps[s].sentence, reusing[i].steps[s].sentence) << plain[i].id << " step " << s;
    steps += plain[i].steps.size();
  }
  EXPECT_GT(steps, plain.size());  // several steps per question, so later prompts had a prefix to reuse
  lm.set_prefix_reuse(true);
}

}  // namespace
}  // namespace steper
