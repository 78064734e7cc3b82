// The OpenAI-compatible client against a fake server: request shape, retries through every kind of
// fault, bounded attempts, concurrency, and errors a user can cause.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/error.h"
#include "fake_server.h"
#include "teacher/openai.h"

namespace steper {
namespace {

using testing_teacher::FakeServer;
using testing_teacher::Fault;

OpenAIOptions fast_options(const std::string& url) {
  OpenAIOptions o;
  o.base_url = url;
  o.model = "teacher-70b";
  o.concurrency = 4;
  o.timeout_s = 0.3;
  o.max_attempts = 4;
  o.backoff_s = 0.01;
  o.max_backoff_s = 0.05;
  return o;
}

GenerateRequest request_for(int i) {
  GenerateRequest r;
  r.prompt = "Wikipedia Title: Item " + std::to_string(i) + "\nx\n\nQ: What is the code of item " + std::to_string(i) +
             "?\nA:";
  r.max_tokens = 32;
  r.stop = {"\n"};
  return r;
}

// ---- request shape

TEST(OpenAIClient, ChatRequestCarriesPromptModelStopAndKey) {
  FakeServer server;
  OpenAIOptions o = fast_options(server.url());
  o.api_key = "sk-test";
  o.system_prompt = "be brief";
  OpenAIGenerator gen(o);
  GenerateRequest r = request_for(3);
  auto results = gen.generate({r});
  ASSERT_EQ(results.size(), 1u);
  // the server's reply continues past a newline; the stop string cuts it there
  EXPECT_EQ(results[0].text, " Item 3 is stored in box 3. Then more text that is cut.");
  EXPECT_EQ(results[0].prompt_tokens, 100);
  EXPECT_EQ(results[0].completion_tokens, 10);
  EXPECT_EQ(server.last_path(), "/v1/chat/completions");
  EXPECT_EQ(server.last_authorization(), "Bearer sk-test");
  nlohmann::json body = server.last_body();
  EXPECT_EQ(body["model"], "teacher-70b");
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][0]["content"], "be brief");
  EXPECT_EQ(body["messages"][1]["role"], "user");
  EXPECT_EQ(body["messages"][1]["content"], r.prompt);
  EXPECT_EQ(body["max_tokens"], 32);
  EXPECT_EQ(body["stop"], nlohmann::json::array({"\n"}));
  EXPECT_EQ(body["temperature"], 0.0);
  OpenAIUsage u = gen.usage();
  EXPECT_EQ(u.requests, 1);
  EXPECT_EQ(u.prompt_tokens, 100);
  EXPECT_EQ(u.completion_tokens, 10);
}

TEST(OpenAIClient, CompletionsEndpointAndBaseUrlWithV1) {
  FakeServer server;
  OpenAIOptions o = fast_options(server.url() + "/v1/");
  o.endpoint = OpenAIEndpoint::kCompletions;
  OpenAIGenerator gen(o);
  auto results = gen.generate({request_for(5), request_for(6)});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].text, " Item 5 is stored in box 5. Then more text that is cut.");
  EXPECT_EQ(results[1].text, " Item 6 is stored in box 6. Then more text that is cut.");
  EXPECT_EQ(server.last_path(), "/v1/completions");
  EXPECT_TRUE(server.last_body().contains("prompt"));
  EXPECT_FALSE(server.last_body().contains("messages"));
  EXPECT_EQ(server.last_authorization(), "");  // no key, no header
}

// ---- faults: each is survived by a retry

class OpenAIFault : public ::testing::TestWithParam<Fault> {};

TEST_P(OpenAIFault, TransientFaultIsRetriedToSuccess) {
  FakeServer server;
  server.set_slow_ms(800);  // beyond the 0.3 s client timeout
  Fault fault = GetParam();
  server.set_fault_plan([fault](const std::string&, int attempt) { return attempt == 1 ? fault : Fault::kNone; });
  OpenAIGenerator gen(fast_options(server.url()));
  std::vector<GenerateRequest> batch = {request_for(1), request_for(2), request_for(3)};
  auto outcomes = gen.generate_detailed(batch);
  ASSERT_EQ(outcomes.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(outcomes[i].ok) << testing_teacher::fault_name(fault) << ": " << outcomes[i].error;
    EXPECT_EQ(outcomes[i].attempts, 2);
    EXPECT_EQ(outcomes[i].result.text,
              " Item " + std::to_string(i + 1) + " is stored in box " + std::to_string(i + 1) + ". Then more text that is cut.");
  }
  EXPECT_EQ(gen.usage().retries, 3);
  EXPECT_EQ(gen.usage().failures, 0);
  EXPECT_TRUE(gen.take_failures().empty());
}

INSTANTIATE_TEST_SUITE_P(Faults, OpenAIFault,
                         ::testing::Values(Fault::kSlow, Fault::k429, Fault::k500, Fault::kMalformed, Fault::kClose),
                         [](const ::testing::TestParamInfo<Fault>& info) {
                           std::string n = testing_teacher::fault_name(info.param);
                           return n == "429" || n == "500" ? "Http" + n : n;
                         });

TEST(OpenAIClient, PersistentFaultFailsAfterBoundedAttempts) {
  FakeServer server;
  server.set_fault_plan([](const std::string& qid, int) { return qid == "q2" ? Fault::k500 : Fault::kNone; });
  OpenAIGenerator gen(fast_options(server.url()));
  auto results = gen.generate({request_for(1), request_for(2)});
  EXPECT_EQ(results[0].text.substr(0, 7), " Item 1");
  EXPECT_EQ(results[1].text, "");
  EXPECT_EQ(server.requests_per_question()["q2"], 4);  // max_attempts
  auto failures = gen.take_failures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures.begin()->first, request_for(2).prompt);
  EXPECT_NE(failures.begin()->second.find("HTTP 500"), std::string::npos) << failures.begin()->second;
  EXPECT_TRUE(gen.take_failures().empty());
  EXPECT_EQ(gen.usage().failures, 1);
}

TEST(OpenAIClient, RefusedClientIsAnErrorNotARetry) {
  FakeServer server;
  server.set_fault_plan([](const std::string&, int) { return Fault::k401; });
  OpenAIGenerator gen(fast_options(server.url()));
  try {
    gen.generate({request_for(1)});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 401"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.total_requests(), 1);
}

TEST(OpenAIClient, UnreachableServerFailsTheRequest) {
  int port;
  {
    FakeServer gone;  // a port that was just free
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  OpenAIOptions o = fast_options("http://127.0.0.1:" + std::to_string(port));
  o.max_attempts = 2;
  OpenAIGenerator gen(o);
  auto outcomes = gen.generate_detailed({request_for(1)});
  EXPECT_FALSE(outcomes[0].ok);
  EXPECT_EQ(outcomes[0].attempts, 2);
  EXPECT_FALSE(outcomes[0].error.empty());
}

TEST(OpenAIClient, HttpsUrlIsAccepted) {
  int port;
  {
    FakeServer gone;
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  OpenAIOptions o = fast_options("https://127.0.0.1:" + std::to_string(port) + "/v1");
  o.max_attempts = 1;
  OpenAIGenerator gen(o);
  auto outcomes = gen.generate_detailed({request_for(1)});
  EXPECT_FALSE(outcomes[0].ok);
  EXPECT_NE(outcomes[0].error.find("https://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions"), std::string::npos)
      << outcomes[0].error;
}

// ---- concurrency

TEST(OpenAIClient, BatchIsSentConcurrentlyAndBounded) {
  FakeServer server;
  server.set_delay_ms(150);
  OpenAIOptions o = fast_options(server.url());
  o.concurrency = 4;  // the test server's listen backlog is 5: more simultaneous connects stall in SYN retries
  o.timeout_s = 2;
  OpenAIGenerator gen(o);
  std::vector<GenerateRequest> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(request_for(i));
  auto results = gen.generate(batch);
  ASSERT_EQ(results.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(results[i].text.rfind(" Item " + std::to_string(i) + " ", 0), 0u) << results[i].text;
  // concurrency shows at the server (not as a timing, which a loaded machine would make flaky)
  EXPECT_EQ(server.max_in_flight(), 4);
}

// ---- errors a user can cause

TEST(OpenAIClient, BadOptionsNameTheFlag) {
  OpenAIOptions o;
  o.model = "m";
  o.base_url = "ftp://example.org";
  try {
    OpenAIGenerator g(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--base-url"), std::string::npos) << e.what();
  }
  o.base_url = "localhost:8000";
  EXPECT_THROW(OpenAIGenerator{o}, Error);
  o.base_url = "http://localhost:8000";
  o.model = "";
  try {
    OpenAIGenerator g(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--model"), std::string::npos) << e.what();
  }
  try {
    openai_endpoint_from_string("chats");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--endpoint"), std::string::npos) << e.what();
  }
}

TEST(OpenAIClient, ApiKeyComesFromTheNamedVariable) {
  setenv("STEPER_TEST_KEY", "sk-abc", 1);
  EXPECT_EQ(openai_api_key_from_env("STEPER_TEST_KEY"), "sk-abc");
  unsetenv("STEPER_TEST_KEY");
  EXPECT_EQ(openai_api_key_from_env("STEPER_TEST_KEY"), "");
}

}  // namespace
}  // namespace steper
