// The serve layer without a model: request parsing and its errors, chat prompts, streamed text held back
// at stop strings, server-sent events, /v1/ask's loop run with fakes, the Prometheus text.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "core/trace_json.h"
#include "serve/ask.h"
#include "serve/metrics.h"
#include "serve/openai_schema.h"
#include "serve/sse.h"
#include "../hostile/error_of.h"

namespace steper {
namespace {

using nlohmann::json;

const ApiLimits kLimits{100, 90};

CompletionCall completions(const json& body) { return parse_completion_call(body, ApiEndpoint::kCompletions, kLimits); }
CompletionCall chat(const json& body) { return parse_completion_call(body, ApiEndpoint::kChat, kLimits); }

TEST(ServeSchema, CompletionFields) {
  CompletionCall c = completions(json::parse(R"({"model":"m","prompt":"Hi","max_tokens":7,"temperature":0,
      "top_p":0.5,"seed":3,"stop":["\n","."],"stream":true,"stream_options":{"include_usage":true}})"));
  ASSERT_EQ(c.prompts.size(), 1u);
  EXPECT_EQ(c.prompts[0].text, "Hi");
  EXPECT_EQ(c.model, "m");
  EXPECT_EQ(c.opts.max_tokens, 7);
  EXPECT_EQ(c.opts.temperature, 0.0f);
  EXPECT_EQ(c.opts.top_p, 0.5f);
  EXPECT_EQ(c.opts.seed, 3u);
  EXPECT_EQ(c.opts.stop, (std::vector<std::string>{"\n", "."}));
  EXPECT_TRUE(c.stream);
  EXPECT_TRUE(c.include_usage);
  // OpenAI's defaults: 16 tokens for completions, temperature 1; a single stop string; a list of one prompt
  CompletionCall d = completions(json::parse(R"({"prompt":["Ho"],"stop":"x"})"));
  EXPECT_EQ(d.prompts[0].text, "Ho");
  EXPECT_EQ(d.opts.max_tokens, 16);
  EXPECT_EQ(d.opts.temperature, 1.0f);
  EXPECT_EQ(d.opts.stop, std::vector<std::string>{"x"});
  EXPECT_EQ(completions(json::parse(R"({"prompt":[5,6,7]})")).prompts[0].ids, (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(d.n, 1);
  EXPECT_EQ(d.logprobs, -1);
}

// What lm-evaluation-harness's local-completions client sends to score a continuation: a batch of token-id
// prompts, echo, max_tokens 1, logprobs 1; and chat's logprobs with top_logprobs; n and best_of.
TEST(ServeSchema, LogprobsChoicesAndPromptBatches) {
  CompletionCall h = completions(json::parse(R"({"model":"m","prompt":[[1,2,3],[4,5]],"temperature":0,"max_tokens":1,
      "logprobs":1,"seed":1234,"echo":true})"));
  ASSERT_EQ(h.prompts.size(), 2u);
  EXPECT_EQ(h.prompts[1].ids, (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(h.logprobs, 1);
  EXPECT_TRUE(h.echo);
  EXPECT_EQ(completions(json::parse(R"({"prompt":["a","b"],"max_tokens":0,"echo":true})")).opts.max_tokens, 0);
  EXPECT_EQ(completions(json::parse(R"({"prompt":"a","logprobs":null})")).logprobs, -1);
  EXPECT_EQ(completions(json::parse(R"({"prompt":"a","logprobs":0})")).logprobs, 0);
  CompletionCall c = chat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":3})"));
  EXPECT_EQ(c.logprobs, 3);
  EXPECT_EQ(chat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"logprobs":true})")).logprobs, 0);
  EXPECT_EQ(chat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"logprobs":false})")).logprobs, -1);
  CompletionCall n = completions(json::parse(R"({"prompt":"a","n":3,"best_of":5})"));
  EXPECT_EQ(n.n, 3);
  EXPECT_EQ(n.best_of, 5);
  auto err = [](const char* body, ApiEndpoint e = ApiEndpoint::kCompletions) {
    return error_of([&] { parse_completion_call(json::parse(body), e, kLimits); });
  };
  EXPECT_NE(err(R"({"prompt":"a","logprobs":21})").find("\"logprobs\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","logprobs":true})").find("\"logprobs\""), std::string::npos);
  EXPECT_NE(err(R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":2})", ApiEndpoint::kChat).find("\"top_logprobs\""),
            std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","n":3,"best_of":2})").find("\"best_of\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","n":2,"best_of":3,"stream":true})").find("\"best_of\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":[[1],7]})").find("\"prompt[1]\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":[]})").find("\"prompt\""), std::string::npos);
}

TEST(ServeSchema, ChatPromptAndDefaults) {
  CompletionCall c = chat(json::parse(R"({"messages":[{"role":"system","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"Q: a"},{"type":"text","text":"?"}]}]})"));
  EXPECT_EQ(c.prompts[0].text, "Be brief.\n\nQ: a?");
  EXPECT_EQ(c.opts.max_tokens, 100);  // chat: up to the server's limit
  EXPECT_EQ(chat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":5})")).opts.max_tokens, 5);
}

TEST(ServeSchema, ErrorsNameTheField) {
  auto err = [](const char* body, ApiEndpoint e = ApiEndpoint::kCompletions) {
    return error_of([&] { parse_completion_call(json::parse(body), e, kLimits); });
  };
  EXPECT_NE(err(R"({"prompt":"a","max_tokens":"7"})").find("\"max_tokens\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","max_tokens":101})").find("[1, 100]"), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","max_tokens":0})").find("\"max_tokens\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","temperature":3})").find("\"temperature\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","top_p":0})").find("\"top_p\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","seed":-1})").find("\"seed\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","stop":["1","2","3","4","5"]})").find("\"stop\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","stop":[1]})").find("\"stop[0]\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","n":17})").find("\"n\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":"a","stream":"yes"})").find("\"stream\""), std::string::npos);
  EXPECT_NE(err(R"({"prompt":7})").find("\"prompt\""), std::string::npos);
  EXPECT_NE(err(R"({"max_tokens":3})").find("\"prompt\""), std::string::npos);
  EXPECT_NE(err(R"([1,2])").find("JSON object"), std::string::npos);
  EXPECT_NE(err(R"({"messages":[]})", ApiEndpoint::kChat).find("\"messages\""), std::string::npos);
  EXPECT_NE(err(R"({"messages":[{"role":"robot","content":"x"}]})", ApiEndpoint::kChat).find("\"messages[0].role\""),
            std::string::npos);
  EXPECT_NE(err(R"({"messages":[{"role":"user","content":5}]})", ApiEndpoint::kChat).find("\"messages[0].content\""),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_request_json("{\"prompt\": "); }).find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of([] { parse_request_json("{\"max_tokens\": 1e400}"); }).find("malformed JSON"), std::string::npos);
}

TEST(ServeSchema, ResponsesHaveTheOpenAIShape) {
  CompletionCall c = chat(json::parse(R"({"messages":[{"role":"user","content":"x"}]})"));
  CompletionOutput out{"chatcmpl-1", 5, "m", {{0, "Hello", "stop", nullptr}, {1, "Hi", "length", nullptr}}, 3, 2};
  json r = completion_response(c, out);
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(r["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(r["choices"][1]["index"], 1);
  EXPECT_EQ(r["choices"][1]["message"]["content"], "Hi");
  EXPECT_EQ(r["usage"]["total_tokens"], 5);
  json first = completion_chunk(c, out, {0, "He", "", nullptr}, true);
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  CompletionCall t = completions(json::parse(R"({"prompt":"ab","echo":true})"));
  EXPECT_EQ(completion_response(t, out)["choices"][0]["text"], "Hello");
  EXPECT_EQ(completion_chunk(t, out, {2, "x", "length", nullptr}, false)["choices"][0]["index"], 2);
  EXPECT_EQ(sse_data(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
}

TEST(ServeStream, HoldsBackWhatMayStartAStopString) {
  StreamedText s({"\nQ:", "END"});
  EXPECT_EQ(s.add("Paris is"), "Paris is");
  EXPECT_EQ(s.add(" big\n"), " big");  // "\n" may start "\nQ:"
  EXPECT_EQ(s.add("Q"), "");           // "\nQ" still may
  EXPECT_EQ(s.add(":"), "");           // the stop string: nothing of it is ever sent
  EXPECT_EQ(s.finish("Paris is big"), "");
  StreamedText t({"END"});
  EXPECT_EQ(t.add("aE"), "a");
  EXPECT_EQ(t.add("x"), "Ex");  // "Ex" cannot start END
  EXPECT_EQ(t.add("EN"), "");
  EXPECT_EQ(t.finish("aExEN"), "EN");  // the decoder ended before END was complete
  StreamedText none({});
  EXPECT_EQ(none.add("abc"), "abc");
}

TEST(ServeAsk, FieldsAndErrors) {
  RagOptions d;
  AskCall a = parse_ask_call(json::parse(R"({"question":"Who?","mode":"single","k":3,"max_steps":2,"stream":true})"), d, true);
  EXPECT_EQ(a.question.question, "Who?");
  EXPECT_EQ(a.rag.loop.mode, RagMode::kSingle);
  EXPECT_EQ(a.rag.loop.k, 3);
  EXPECT_EQ(a.rag.loop.max_steps, 2);
  EXPECT_TRUE(a.stream);
  EXPECT_EQ(a.rag.loop.framework, "ircot");  // the server's default
  EXPECT_EQ(parse_ask_call(json::parse(R"({"question":"Who?"})"), d, true).rag.loop.k, d.loop.k);
  AskCall s = parse_ask_call(json::parse(R"({"question":"Who?","framework":"self-ask"})"), d, true);
  EXPECT_EQ(s.rag.loop.framework, "self-ask");
  EXPECT_EQ(s.rag.loop.prompt_format, "self-ask-v1");
  auto err = [&](const char* body, bool index = true) {
    return error_of([&] { parse_ask_call(json::parse(body), d, index); });
  };
  EXPECT_NE(err(R"({})").find("\"question\""), std::string::npos);
  EXPECT_NE(err(R"({"question":"  "})").find("\"question\""), std::string::npos);
  EXPECT_NE(err(R"({"question":"a","mode":"deep"})").find("\"mode\""), std::string::npos);
  EXPECT_NE(err(R"({"question":"a","framework":"react"})").find("field \"framework\""), std::string::npos);
  EXPECT_NE(err(R"({"question":"a","k":0})").find("\"k\""), std::string::npos);
  EXPECT_NE(err(R"({"question":"a","max_steps":1.5})").find("\"max_steps\""), std::string::npos);
  // The ranges are the loop's own, the same as the command-line flags' and a trace's.
  EXPECT_NE(err(R"({"question":"a","k":1001})").find("[1, 1000]"), std::string::npos);
  EXPECT_NE(err(R"({"question":"a","max_passages":10001})").find("\"max_passages\""), std::string::npos);
  EXPECT_EQ(err(R"({"question":"a","max_steps":1000,"passage_words":1000000})"), "");
  EXPECT_NE(err(R"({"question":"a"})", false).find("no index"), std::string::npos);
  EXPECT_EQ(err(R"({"question":"a","mode":"none"})", false), "");
}

class TableRetriever : public Retriever {
 public:
  std::map<std::string, std::vector<ScoredPassage>> table;
  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    std::vector<std::vector<ScoredPassage>> out;
    for (const auto& q : queries) out.push_back(table.count(q) ? table[q] : std::vector<ScoredPassage>{});
    return out;
  }
  size_t size() const override { return 2; }
};

// Writes a scripted sentence for each number of sentences already in the prompt.
class StepsGenerator : public TextGenerator {
 public:
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override {
    std::vector<GenerateResult> out;
    for (const auto& r : requests) {
      bool second = r.prompt.find("A: Alvar was born in Harrow.") != std::string::npos;
      out.push_back(GenerateResult{second ? " So the answer is: Norland.\n" : " Alvar was born in Harrow.\nQ:", 0, 0});
    }
    return out;
  }
  std::string name() const override { return "scripted"; }
};

TEST(ServeAsk, StreamsEveryStepTheTraceRecords) {
  TableRetriever r;
  r.table["was Alvar born"] = {{{"p1", "Alvar", "Alvar was born in Harrow."}, 2.5}};
  r.table["Alvar was born in Harrow."] = {{{"p2", "Harrow", "Harrow is in Norland."}, 1.5}};
  AskCall call = parse_ask_call(json::parse(R"({"question":"Where was Alvar born?","mode":"multi","k":1})"), RagOptions{}, true);
  StepsGenerator gen;
  std::vector<json> streamed;
  Trace t = run_ask(call, &r, gen, [&](size_t i, const json& step) {
    EXPECT_EQ(i, streamed.size());
    streamed.push_back(step);
    return true;
  });
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.answer, "Norland");
  EXPECT_EQ(t.steps[0].query, "was Alvar born");  // wh-word and question mark cleaned off
  EXPECT_EQ(t.steps[1].retrieved.at(0).passage.id, "p2");
  json whole = to_json(t);
  ASSERT_EQ(streamed.size(), 2u);
  EXPECT_EQ(streamed[0], whole["steps"][0]);
  EXPECT_EQ(streamed[1], whole["steps"][1]);
  // the same question through the loop directly records the same trace
  LmStepWriter writer(gen, call.rag);
  EXPECT_EQ(to_json(rag_run({call.question}, &r, writer, call.rag)[0]), whole);
}

// A reader that leaves after the first step stops the loop: no further step is written.
TEST(ServeAsk, AReaderThatLeavesStopsTheLoop) {
  TableRetriever r;
  r.table["was Alvar born"] = {{{"p1", "Alvar", "Alvar was born in Harrow."}, 2.5}};
  AskCall call = parse_ask_call(json::parse(R"({"question":"Where was Alvar born?","mode":"multi","k":1})"), RagOptions{}, true);
  struct CountingGenerator : StepsGenerator {
    int calls = 0;
    std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override {
      ++calls;
      return StepsGenerator::generate(requests);
    }
  } gen;
  size_t seen = 0;
  bool abandoned = false;
  try {
    run_ask(call, &r, gen, [&](size_t, const json&) { return ++seen < 1; });
  } catch (const AskAbandoned&) {
    abandoned = true;
  }
  EXPECT_TRUE(abandoned);
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(gen.calls, 1);  // the second step was never asked for
}

TEST(ServeMetrics, PrometheusText) {
  ServeMetrics m;
  m.observe("/v1/completions", 200, 0.003);
  m.observe("/v1/completions", 200, 0.2);
  m.observe("/v1/completions", 400, 0.001);
  DecodeEngine::Stats s;
  s.tokens_generated = 42;
  s.waiting = 3;
  s.batch_size_counts = {0, 5, 2};  // five rounds of one sequence, two of two
  s.prompt_tokens = 50;
  s.reused_tokens = 20;
  s.active = 2;
  TokenTimings t;
  t.first_token.observe(0.03);
  t.first_token.observe(0.3);
  t.between_tokens.observe(0.02);
  t.queue.observe(0.1);
  m.refused_connection();
  std::string text = m.render(s, t);
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("steper_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 2")) << text;
  EXPECT_TRUE(has("steper_requests_total{endpoint=\"/v1/completions\",status=\"400\"} 1"));
  EXPECT_TRUE(has("steper_request_duration_seconds_bucket{endpoint=\"/v1/completions\",le=\"0.005\"} 2"));
  EXPECT_TRUE(has("steper_request_duration_seconds_bucket{endpoint=\"/v1/completions\",le=\"0.25\"} 3"));
  EXPECT_TRUE(has("steper_request_duration_seconds_count{endpoint=\"/v1/completions\"} 3"));
  EXPECT_TRUE(has("steper_tokens_generated_total 42"));
  EXPECT_TRUE(has("steper_decode_batch_size_bucket{le=\"1\"} 5"));
  EXPECT_TRUE(has("steper_decode_batch_size_bucket{le=\"2\"} 7"));
  EXPECT_TRUE(has("steper_decode_batch_size_sum 9"));
  EXPECT_TRUE(has("steper_num_requests_waiting 3"));
  EXPECT_TRUE(has("steper_num_requests_running 2"));
  EXPECT_TRUE(has("steper_prefix_cache_queries_total 50"));
  EXPECT_TRUE(has("steper_prefix_cache_hits_total 20"));
  EXPECT_TRUE(has("steper_connections_refused_total 1"));
  EXPECT_TRUE(has("steper_time_to_first_token_seconds_bucket{le=\"0.02\"} 0"));
  EXPECT_TRUE(has("steper_time_to_first_token_seconds_bucket{le=\"0.04\"} 1"));
  EXPECT_TRUE(has("steper_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_TRUE(has("steper_time_to_first_token_seconds_count 2"));
  EXPECT_TRUE(has("steper_inter_token_latency_seconds_bucket{le=\"0.025\"} 1"));
  EXPECT_TRUE(has("steper_request_queue_time_seconds_bucket{le=\"0.3\"} 1"));
}

}  // namespace
}  // namespace steper
