// steper serve in-process over loopback HTTP with a real (tiny) model: the log-probabilities it serves
// equal log_softmax of the logits of the library's own forward pass (LanguageModel::next_token_logits,
// the whole sequence recomputed) for the same tokens, in OpenAI's completions (echo, max_tokens 0,
// prompt batches as lm-evaluation-harness sends them) and chat schemas, whole and streamed; n seeded
// choices equal seeded generate_ids runs; /tokenize and /detokenize; the token timings in /metrics.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <thread>

#include "serve/server.h"
#include "tiny_model.h"

namespace steper {
namespace {

using nlohmann::json;

LanguageModel& model() { return tiny_model(); }

// log_softmax of the library's logits after `prefix`, in double.
std::vector<double> log_softmax_after(const std::vector<int32_t>& prefix) {
  std::vector<float> l = model().next_token_logits(prefix);
  double mx = *std::max_element(l.begin(), l.end()), z = 0;
  for (float x : l) z += std::exp(x - mx);
  std::vector<double> out(l.size());
  for (size_t i = 0; i < l.size(); ++i) out[i] = l[i] - mx - std::log(z);
  return out;
}

std::vector<int32_t> best(const std::vector<double>& lp, int k) {
  std::vector<int32_t> ids(lp.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int32_t a, int32_t b) { return lp[a] > lp[b]; });
  ids.resize(k);
  return ids;
}

std::string bytes(int32_t id) { return model().tokenizer().token_bytes(id); }
bool ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x80; });
}

class Served : public ::testing::Test {
 protected:
  void SetUp() override {
    scheduler_ = std::make_unique<Scheduler>(model(), 4, 16);
    ServeOptions o;
    o.port = 0;
    o.model_name = "tiny";
    o.limits.max_tokens = 64;
    o.limits.max_prompt_tokens = static_cast<int>(model().context()) - 1;
    server_ = std::make_unique<Server>(*scheduler_, nullptr, o);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->listen(); });
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  json post(const std::string& path, const json& body, std::string* raw = nullptr) {
    httplib::Client c("127.0.0.1", port_);
    auto res = c.Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(res) << path;
    if (!res) return json();
    EXPECT_EQ(res->status, 200) << res->body;
    if (raw) *raw = res->body;
    return raw ? json() : json::parse(res->body);
  }
  std::string get(const std::string& path) {
    httplib::Client c("127.0.0.1", port_);
    auto res = c.Get(path.c_str());
    return res ? res->body : "";
  }
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
};

std::vector<int32_t> prompt_ids() { return model().tokenizer().encode("Alvar Quint was born in", true); }

std::vector<int32_t> greedy_ids(const std::vector<int32_t>& prompt, int n) {
  TokenGenerateOptions o;
  o.max_tokens = n;
  return model().generate_ids({prompt}, o)[0];
}

// Completions' logprobs object for the tokens `all` (the first unscored when scored_from is 1): each value
// equals the library's, top_logprobs holds the k best (and the token), tokens are the tokens' bytes.
void expect_completion_logprobs(const json& lp, const std::vector<int32_t>& all, size_t scored_from, int k) {
  ASSERT_EQ(lp["tokens"].size(), all.size());
  ASSERT_EQ(lp["token_logprobs"].size(), all.size());
  ASSERT_EQ(lp["text_offset"].size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    if (ascii(bytes(all[i]))) {
      EXPECT_EQ(lp["tokens"][i], bytes(all[i]));
    }
    if (i < scored_from) {
      EXPECT_TRUE(lp["token_logprobs"][i].is_null());
      EXPECT_TRUE(lp["top_logprobs"][i].is_null());
      continue;
    }
    std::vector<int32_t> prefix(all.begin(), all.begin() + i);
    std::vector<double> want = log_softmax_after(prefix);
    EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), want[all[i]], 1e-4) << "token " << i;
    const json& top = lp["top_logprobs"][i];
    EXPECT_LE(top.size(), static_cast<size_t>(k) + 1);
    for (int32_t alt : best(want, k)) {
      if (ascii(bytes(alt))) {
        ASSERT_TRUE(top.contains(bytes(alt))) << "token " << i << " lacks alternative " << alt;
        EXPECT_NEAR(top[bytes(alt)].get<double>(), want[alt], 1e-4);
      } else {  // written "bytes:\x.."
        EXPECT_TRUE(std::any_of(top.begin(), top.end(), [&](const json& v) { return std::fabs(v.get<double>() - want[alt]) < 1e-4; }));
      }
    }
    if (i > 0) {
      EXPECT_GE(lp["text_offset"][i].get<int>(), lp["text_offset"][i - 1].get<int>());
    }
  }
}

TEST_F(Served, CompletionLogprobsWithEchoEqualTheForwardPass) {
  const std::vector<int32_t> ids = prompt_ids(), gen = greedy_ids(ids, 5);
  json r = post("/v1/completions", {{"prompt", ids}, {"max_tokens", 5}, {"temperature", 0}, {"echo", true}, {"logprobs", 3}});
  std::vector<int32_t> all = ids;
  all.insert(all.end(), gen.begin(), gen.end());
  expect_completion_logprobs(r["choices"][0]["logprobs"], all, 1, 3);
  EXPECT_EQ(r["choices"][0]["text"], model().tokenizer().decode(ids, true) + model().tokenizer().decode(gen, true));
  // without echo: the continuation's tokens only, offsets from 0
  json plain = post("/v1/completions", {{"prompt", ids}, {"max_tokens", 5}, {"temperature", 0}, {"logprobs", 2}});
  std::vector<int32_t> scored = ids;
  const json& lp = plain["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), gen.size());
  for (size_t i = 0; i < gen.size(); ++i) {
    EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), log_softmax_after(scored)[gen[i]], 1e-4);
    scored.push_back(gen[i]);
  }
  if (!gen.empty()) {
    EXPECT_EQ(lp["text_offset"][0], 0);
  }
}

// lm-evaluation-harness's local-completions loglikelihood request: token-id prompts in a batch, echo,
// max_tokens 1, logprobs 1; and a prompt scored alone with max_tokens 0.
TEST_F(Served, PromptBatchesAreScoredAsTheHarnessAsks) {
  std::vector<int32_t> a = prompt_ids(), b = model().tokenizer().encode("Dita Holm was born in Port", true);
  json r = post("/v1/completions", {{"model", "tiny"}, {"prompt", {a, b}}, {"temperature", 0}, {"max_tokens", 1},
                                    {"logprobs", 1}, {"seed", 1234}, {"echo", true}});
  ASSERT_EQ(r["choices"].size(), 2u);
  for (int c = 0; c < 2; ++c) {
    const std::vector<int32_t>& p = c == 0 ? a : b;
    std::vector<int32_t> all = p, gen = greedy_ids(p, 1);
    all.insert(all.end(), gen.begin(), gen.end());
    EXPECT_EQ(r["choices"][c]["index"], c);
    expect_completion_logprobs(r["choices"][c]["logprobs"], all, 1, 1);
  }
  json score = post("/v1/completions", {{"prompt", b}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 0}});
  expect_completion_logprobs(score["choices"][0]["logprobs"], b, 1, 0);
  EXPECT_EQ(score["usage"]["completion_tokens"], 0);
  EXPECT_EQ(score["usage"]["prompt_tokens"], b.size());
  EXPECT_EQ(score["choices"][0]["text"], model().tokenizer().decode(b, true));
}

TEST_F(Served, ChatTopLogprobsEqualTheForwardPass) {
  const std::string text = "Alvar Quint was born in";
  const std::vector<int32_t> ids = prompt_ids(), gen = greedy_ids(ids, 4);
  json r = post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", text}}}}, {"max_tokens", 4},
                                         {"temperature", 0}, {"logprobs", true}, {"top_logprobs", 2}});
  const json& content = r["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), gen.size());
  std::vector<int32_t> prefix = ids;
  for (size_t i = 0; i < gen.size(); ++i) {
    std::vector<double> want = log_softmax_after(prefix);
    EXPECT_NEAR(content[i]["logprob"].get<double>(), want[gen[i]], 1e-4);
    std::string b = bytes(gen[i]);
    ASSERT_EQ(content[i]["bytes"].size(), b.size());
    for (size_t j = 0; j < b.size(); ++j) EXPECT_EQ(content[i]["bytes"][j].get<int>(), static_cast<unsigned char>(b[j]));
    std::vector<int32_t> top = best(want, 2);
    ASSERT_EQ(content[i]["top_logprobs"].size(), 2u);
    for (int j = 0; j < 2; ++j) EXPECT_NEAR(content[i]["top_logprobs"][j]["logprob"].get<double>(), want[top[j]], 1e-4);
    prefix.push_back(gen[i]);
  }
}

// Streamed, the chunks' logprobs add up to the whole answer's.
TEST_F(Served, StreamedLogprobsAddUpToTheWholeAnswer) {
  const std::vector<int32_t> ids = prompt_ids();
  json body{{"prompt", ids}, {"max_tokens", 8}, {"temperature", 0}, {"logprobs", 2}, {"echo", true}};
  json whole = post("/v1/completions", body)["choices"][0]["logprobs"];
  body["stream"] = true;
  std::string raw;
  post("/v1/completions", body, &raw);
  json tokens = json::array(), values = json::array();
  size_t at = 0;
  while ((at = raw.find("data: {", at)) != std::string::npos) {
    size_t end = raw.find("\n\n", at);
    json chunk = json::parse(raw.substr(at + 6, end - at - 6));
    const json& lp = chunk["choices"][0]["logprobs"];
    for (size_t i = 0; i < lp["tokens"].size(); ++i) {
      tokens.push_back(lp["tokens"][i]);
      values.push_back(lp["token_logprobs"][i]);
    }
    at = end;
  }
  EXPECT_EQ(tokens, whole["tokens"]);
  ASSERT_EQ(values.size(), whole["token_logprobs"].size());
  for (size_t i = 1; i < values.size(); ++i) EXPECT_NEAR(values[i].get<double>(), whole["token_logprobs"][i].get<double>(), 1e-6);
}

// n choices: choice i samples with choice_seed(seed, i), as generate_ids with that seed.
TEST_F(Served, SeededChoicesAreSeededRuns) {
  const std::vector<int32_t> ids = prompt_ids();
  json r = post("/v1/completions", {{"prompt", ids}, {"max_tokens", 8}, {"temperature", 1}, {"seed", 11}, {"n", 3}});
  ASSERT_EQ(r["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    TokenGenerateOptions o;
    o.max_tokens = 8;
    o.temperature = 1;
    o.seed = choice_seed(11, i);
    EXPECT_EQ(r["choices"][i]["text"], model().tokenizer().decode(model().generate_ids({ids}, o)[0], true)) << i;
  }
}

TEST_F(Served, TokenizeAndDetokenize) {
  json t = post("/tokenize", {{"model", "tiny"}, {"prompt", "Alvar Quint was born in"}});
  EXPECT_EQ(t["tokens"].get<std::vector<int32_t>>(), prompt_ids());
  EXPECT_EQ(t["count"], prompt_ids().size());
  EXPECT_EQ(t["max_model_len"], model().context());
  json bare = post("/tokenize", {{"prompt", "Alvar"}, {"add_special_tokens", false}, {"return_token_strs", true}});
  EXPECT_EQ(bare["tokens"].get<std::vector<int32_t>>(), model().tokenizer().encode("Alvar", false));
  EXPECT_EQ(bare["token_strs"].size(), bare["tokens"].size());
  json d = post("/detokenize", {{"tokens", prompt_ids()}});
  EXPECT_EQ(d["prompt"], model().tokenizer().decode(prompt_ids(), false));
}

TEST_F(Served, MetricsCountTokenTimings) {
  post("/v1/completions", {{"prompt", prompt_ids()}, {"max_tokens", 4}, {"temperature", 0}});
  std::string m = get("/metrics");
  auto value = [&](const std::string& name) {
    size_t at = m.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(m.substr(at + name.size() + 2));
  };
  const double tokens = value("steper_tokens_generated_total");
  ASSERT_GE(tokens, 1) << "the model ended at once; the timings below need a token";
  EXPECT_EQ(value("steper_time_to_first_token_seconds_count"), 1) << m;  // EOS is not a kept token
  EXPECT_EQ(value("steper_inter_token_latency_seconds_count"), tokens - 1);
  EXPECT_EQ(value("steper_request_queue_time_seconds_count"), 1);
  EXPECT_EQ(value("steper_prefix_cache_queries_total"), prompt_ids().size());
  EXPECT_EQ(value("steper_num_requests_running"), 0);
}

}  // namespace
}  // namespace steper
