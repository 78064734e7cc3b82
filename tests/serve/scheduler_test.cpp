// The request scheduler over a real (from-scratch tiny) model: concurrent requests share decode rounds
// and give what the model gives each alone, a full queue refuses, streamed pieces add up to the text,
// and /v1/ask's loop through the scheduler records the trace the loop records with the model itself.
#include <gtest/gtest.h>

#include <thread>

#include "core/trace_json.h"
#include "model/model.h"
#include "serve/ask.h"
#include "serve/scheduler.h"
#include "tiny_model.h"

namespace steper {
namespace {

LanguageModel& model() { return tiny_model(); }

TokenGenerateOptions greedy(int n) {
  TokenGenerateOptions o;
  o.max_tokens = n;
  o.stop_at_eos = false;
  return o;
}

TEST(Scheduler, ConcurrentRequestsShareRoundsAndMatchAlone) {
  LanguageModel& lm = model();
  std::vector<std::vector<int32_t>> prompts;
  for (const char* p : {"Alvar Quint was", "Port", "Dita Holm was born in Sallow", "So the answer"})
    prompts.push_back(lm.tokenizer().encode(p, true));
  std::vector<std::vector<int32_t>> alone;
  for (const auto& p : prompts) alone.push_back(lm.generate_ids({p}, greedy(12))[0]);

  Scheduler s(lm, 4, 4);
  std::vector<std::shared_ptr<ScheduledJob>> jobs;
  for (const auto& p : prompts) jobs.push_back(s.submit(p, greedy(12), false));
  for (size_t i = 0; i < jobs.size(); ++i) {
    const DecodeResult& r = jobs[i]->wait();
    EXPECT_EQ(r.ids, alone[i]) << "prompt " << i;
    EXPECT_EQ(r.finish_reason, "length");
    EXPECT_EQ(r.prompt_tokens, static_cast<int>(prompts[i].size()));
  }
  DecodeEngine::Stats st = s.stats();
  uint64_t shared = 0;
  for (size_t n = 2; n < st.batch_size_counts.size(); ++n) shared += st.batch_size_counts[n];
  EXPECT_GT(shared, 0u) << "no decoding round held more than one request";
  EXPECT_EQ(st.tokens_generated, 48u);
  EXPECT_EQ(s.in_flight(), 0);
}

TEST(Scheduler, StreamedPiecesAddUpToTheText) {
  Scheduler s(model(), 2, 2);
  auto job = s.submit(model().tokenizer().encode("Corin Vale was", true), greedy(10), true);
  std::string streamed, piece;
  while (job->next_piece(piece)) streamed += piece;
  EXPECT_EQ(streamed, job->wait().text);
  EXPECT_FALSE(streamed.empty());
}

TEST(Scheduler, AFullQueueRefuses) {
  Scheduler s(model(), 1, 1);
  auto prompt = model().tokenizer().encode("Bessa", true);
  auto a = s.submit(prompt, greedy(400), false);  // decoding
  auto b = s.submit(prompt, greedy(400), false);  // waiting: the queue is full
  EXPECT_THROW(s.submit(prompt, greedy(1), false), QueueFull);
  b->cancel();  // still waiting: it never decodes
  a->cancel();
  EXPECT_EQ(a->wait().finish_reason, "cancelled");
  EXPECT_LT(a->wait().ids.size(), 400u);
  EXPECT_EQ(b->wait().finish_reason, "cancelled");
  EXPECT_TRUE(b->wait().ids.empty());
  EXPECT_NO_THROW(s.submit(prompt, greedy(1), false)->wait());
}

// A cancelled request that waits for a place leaves the queue at the next step, while the batch is full.
TEST(Scheduler, ACancelledRequestLeavesTheQueueAtOnce) {
  DecodeEngine engine(model(), 1);
  auto prompt = model().tokenizer().encode("Bessa", true);
  std::vector<DecodeResult> done;
  auto request = [&](int max_tokens) {
    DecodeRequest r;
    r.prompt = prompt;
    r.opts = greedy(max_tokens);
    r.on_done = [&done](const DecodeResult& d) { done.push_back(d); };
    return r;
  };
  engine.submit(request(50));  // takes the only place
  engine.step();
  const uint64_t queued = engine.submit(request(50));
  engine.submit(request(50));
  engine.cancel(queued);
  engine.step();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].finish_reason, "cancelled");
  EXPECT_TRUE(done[0].ids.empty());
  DecodeEngine::Stats st = engine.stats();
  EXPECT_EQ(st.active, 1);
  EXPECT_EQ(st.waiting, 1);
}

TEST(Scheduler, RefusedPromptsAreUserErrors) {
  Scheduler s(model(), 1, 1);
  EXPECT_THROW(s.submit({}, greedy(1), false), Error);
  EXPECT_THROW(s.submit({1000000}, greedy(1), false), Error);
  EXPECT_EQ(s.in_flight(), 0);  // a refused request holds no place
}

class OnePassage : public Retriever {
 public:
  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    return std::vector<std::vector<ScoredPassage>>(queries.size(), {{{"p1", "Alvar Quint", "Alvar Quint was born in Harrowgate."}, 1.0}});
  }
  size_t size() const override { return 1; }
};

TEST(Scheduler, AskThroughTheSchedulerRecordsTheLoopsTrace) {
  OnePassage r;
  AskCall call = parse_ask_call(nlohmann::json::parse(R"({"question":"Where was Alvar Quint born?","max_steps":3})"),
                                RagOptions{}, true);
  LmStepWriter direct(model(), call.rag);
  nlohmann::json expected = to_json(rag_run({call.question}, &r, direct, call.rag)[0]);
  Scheduler s(model(), 4, 4);
  ScheduledGenerator gen(s);
  EXPECT_EQ(to_json(run_ask(call, &r, gen)), expected);
}

}  // namespace
}  // namespace steper
