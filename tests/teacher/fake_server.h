// An OpenAI-compatible server for tests, on loopback at a random port. It plays a perfect teacher for
// the questions of fake_teacher_util.h and can misbehave on chosen attempts: answer slowly, with 429,
// with 500, with malformed JSON, or by closing the connection half-way through the body.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "fake_teacher_util.h"

namespace steper {
namespace testing_teacher {

enum class Fault { kNone, kSlow, k429, k500, kMalformed, kClose, k401 };

inline const char* fault_name(Fault f) {
  switch (f) {
    case Fault::kNone: return "none";
    case Fault::kSlow: return "slow";
    case Fault::k429: return "429";
    case Fault::k500: return "500";
    case Fault::kMalformed: return "malformed";
    case Fault::kClose: return "close";
    case Fault::k401: return "401";
  }
  return "?";
}

class FakeServer {
 public:
  // fault(question id, attempt number of this exact prompt, 1-based) -> what to do
  using FaultPlan = std::function<Fault(const std::string& qid, int attempt)>;

  FakeServer() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(48); };
    server_.set_keep_alive_timeout(1);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    server_.Post("/v1/chat/completions", handler);
    server_.Post("/v1/completions", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_fault_plan(FaultPlan plan) {
    std::lock_guard<std::mutex> g(mutex_);
    plan_ = std::move(plan);
  }
  void set_delay_ms(int ms) { delay_ms_ = ms; }
  void set_slow_ms(int ms) { slow_ms_ = ms; }
  // Question ids whose answer is wrong on purpose.
  void set_wrong(std::function<bool(int)> wrong) { wrong_ = std::move(wrong); }

  std::map<std::string, int> requests_per_question() const {
    std::lock_guard<std::mutex> g(mutex_);
    return per_question_;
  }
  int total_requests() const { return total_; }
  int max_in_flight() const { return max_in_flight_; }
  nlohmann::json last_body() const {
    std::lock_guard<std::mutex> g(mutex_);
    return last_body_;
  }
  std::string last_authorization() const {
    std::lock_guard<std::mutex> g(mutex_);
    return last_auth_;
  }
  std::string last_path() const {
    std::lock_guard<std::mutex> g(mutex_);
    return last_path_;
  }

 private:
  // The teacher: reads the last "Q: ...\nA:" of the prompt and writes the next sentence (a Self-Ask
  // prompt: the next line after its last "Question: ").
  std::string reply_for(const std::string& prompt, std::string* qid) {
    const std::string header = "\nAre follow up questions needed here: Yes.\n";
    auto sq = prompt.rfind("Question: ");
    if (sq != std::string::npos && prompt.find(header, sq) != std::string::npos) return self_ask_reply(prompt, sq, qid);
    auto q = prompt.rfind("Q: ");
    auto a = prompt.find("\nA:", q == std::string::npos ? 0 : q);
    if (q == std::string::npos || a == std::string::npos) return "I do not know.";
    std::string question = prompt.substr(q + 3, a - q - 3);
    std::string reasoning = prompt.substr(a + 3);
    int i = number_after(question, "item");
    *qid = "q" + std::to_string(i);
    if (reasoning.find_first_not_of(' ') == std::string::npos)
      return " " + first_sentence_for(i) + " Then more text that is cut.\nQ: another";
    if (wrong_ && wrong_(i)) return " So the answer is: nothing.";
    return " " + answer_sentence_for(i);
  }

  // Self-Ask: follow up on the item, then on its box, then the final answer; each intermediate answer is
  // the passage sentence of the step's follow-up. Every reply runs on past its first line (cut by the writer).
  std::string self_ask_reply(const std::string& prompt, size_t question_at, std::string* qid) {
    const std::string rest = prompt.substr(question_at);
    int i = number_after(rest.substr(0, rest.find('\n')), "item");
    *qid = "q" + std::to_string(i);
    size_t pairs = 0;
    for (size_t p = rest.find("Intermediate answer: "); p != std::string::npos; p = rest.find("Intermediate answer: ", p + 1))
      ++pairs;
    const std::string n = std::to_string(i);
    if (prompt.size() >= 20 && prompt.compare(prompt.size() - 20, 20, "Intermediate answer:") == 0)
      return pairs == 0 ? " " + first_sentence_for(i) + "\nFollow up: more" : " Box " + n + " holds the code code" + n + ".\n";
    if (pairs == 0) return " Follow up: Where is item " + n + " stored?\nIntermediate answer: a guess";
    if (pairs == 1) return " Follow up: What code does box " + n + " hold?\n";
    return wrong_ && wrong_(i) ? " So the final answer is: nothing\n" : " So the final answer is: code" + n + "\n";
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    int now = ++in_flight_;
    {
      int m = max_in_flight_;
      while (now > m && !max_in_flight_.compare_exchange_weak(m, now)) {
      }
    }
    ++total_;
    nlohmann::json body = nlohmann::json::parse(req.body);
    bool chat = req.path == "/v1/chat/completions";
    std::string prompt = chat ? body["messages"].back()["content"].get<std::string>() : body["prompt"].get<std::string>();
    std::string qid;
    std::string text = reply_for(prompt, &qid);
    Fault fault = Fault::kNone;
    {
      std::lock_guard<std::mutex> g(mutex_);
      last_body_ = body;
      last_path_ = req.path;
      last_auth_ = req.get_header_value("Authorization");
      ++per_question_[qid];
      int attempt = ++per_prompt_[prompt];
      if (plan_) fault = plan_(qid, attempt);
    }
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    nlohmann::json reply;
    if (chat) reply["choices"] = {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}}};
    else reply["choices"] = {{{"index", 0}, {"text", text}}};
    reply["usage"] = {{"prompt_tokens", 100}, {"completion_tokens", 10}, {"total_tokens", 110}};
    switch (fault) {
      case Fault::kNone: res.set_content(reply.dump(), "application/json"); break;
      case Fault::kSlow:
        std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms_));
        res.set_content(reply.dump(), "application/json");
        break;
      case Fault::k429:
        res.status = 429;
        res.set_content("{\"error\":{\"message\":\"rate limited\"}}", "application/json");
        break;
      case Fault::k500:
        res.status = 500;
        res.set_content("{\"error\":{\"message\":\"internal error\"}}", "application/json");
        break;
      case Fault::k401:
        res.status = 401;
        res.set_content("{\"error\":{\"message\":\"invalid api key\"}}", "application/json");
        break;
      case Fault::kMalformed: res.set_content("{\"choices\": [{\"text\": ", "application/json"); break;
      case Fault::kClose:
        // promises 1000 bytes, sends a few, then gives up: the connection is closed mid-body
        res.set_content_provider(1000, "application/json", [](size_t, size_t, httplib::DataSink& sink) {
          sink.write("{\"choi", 6);
          return false;
        });
        break;
    }
    --in_flight_;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  FaultPlan plan_;
  std::function<bool(int)> wrong_;
  std::atomic<int> delay_ms_{0}, slow_ms_{600};
  std::atomic<int> total_{0}, in_flight_{0}, max_in_flight_{0};
  std::map<std::string, int> per_question_, per_prompt_;
  nlohmann::json last_body_;
  std::string last_auth_, last_path_;
};

}  // namespace testing_teacher
}  // namespace steper
