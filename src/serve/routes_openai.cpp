// POST /v1/completions, POST /v1/chat/completions (whole or streamed as server-sent events) and
// GET /v1/models. Each choice of each prompt is its own sequence in the running batch.
#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/error.h"
#include "serve/logprobs.h"
#include "serve/routes.h"
#include "serve/sse.h"

namespace steper {

using nlohmann::json;

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A prompt's ids (its text filled in from given ids), within the server's limit on prompt length.
std::vector<int32_t> prompt_ids(ServeContext& ctx, const CompletionCall& call, PromptInput& p) {
  const Tokenizer& tok = ctx.scheduler.model().tokenizer();
  std::vector<int32_t> ids = p.ids;
  if (ids.empty()) ids = tok.encode(p.text, true);
  else p.text = tok.decode(ids, true);
  const char* field = call.endpoint == ApiEndpoint::kChat ? "messages" : "prompt";
  if (ids.empty()) throw Error(std::string("request: field \"") + field + "\" is empty");
  if (static_cast<int>(ids.size()) > ctx.opts.limits.max_prompt_tokens)
    throw Error(std::string("request: field \"") + field + "\" has " + std::to_string(ids.size()) +
                " tokens, more than the " + std::to_string(ctx.opts.limits.max_prompt_tokens) + " this server takes");
  return ids;
}

// One sequence of a request: prompt p's j-th (of best_of), sampling with choice_seed(seed, j).
struct Sequence {
  size_t prompt = 0;
  int j = 0;
  std::shared_ptr<ScheduledJob> job;
};

std::vector<Sequence> submit_all(ServeContext& ctx, const CompletionCall& call, const std::vector<std::vector<int32_t>>& ids) {
  // best_of > n ranks sequences by their log-probability, so they need it even when not asked for
  const int lp = call.best_of > call.n ? std::max(call.logprobs, 0) : call.logprobs;
  const int prompt_lp = call.echo && call.logprobs >= 0 ? call.logprobs : -1;
  ctx.scheduler.check_room(static_cast<int>(ids.size()) * call.best_of);
  std::vector<Sequence> seqs;
  try {
    for (size_t p = 0; p < ids.size(); ++p)
      for (int j = 0; j < call.best_of; ++j) {
        TokenGenerateOptions o = call.opts;
        o.seed = choice_seed(call.opts.seed, j);
        seqs.push_back({p, j, ctx.scheduler.submit(ids[p], o, call.stream, "", lp, j == 0 ? prompt_lp : -1)});
      }
  } catch (...) {
    for (auto& s : seqs) s.job->cancel();
    throw;
  }
  return seqs;
}

json logprobs_json(const CompletionCall& call, const Tokenizer& tok, const std::vector<int32_t>& echo_ids,
                   const std::vector<TokenLogprob>& prompt_lps, const std::vector<TokenLogprob>& lps, size_t& offset) {
  if (call.logprobs < 0) return nullptr;
  if (call.endpoint == ApiEndpoint::kChat) return json{{"content", chat_logprob_content(tok, lps)}, {"refusal", nullptr}};
  return completion_logprobs(tok, echo_ids, prompt_lps, lps, offset);
}

// A finished sequence's log-probabilities, cut where its text was cut by a stop string.
std::vector<TokenLogprob> kept_logprobs(const Tokenizer& tok, const DecodeResult& r) {
  size_t n = r.finish_reason == "stop" ? tokens_within(tok, r.logprobs, r.text.size()) : r.logprobs.size();
  return std::vector<TokenLogprob>(r.logprobs.begin(), r.logprobs.begin() + n);
}

double total_logprob(const DecodeResult& r) {
  return std::accumulate(r.logprobs.begin(), r.logprobs.end(), 0.0, [](double a, const TokenLogprob& t) { return a + t.logprob; });
}

void stream_sequence(const CompletionCall& call, const CompletionOutput& head, const Tokenizer& tok, const Sequence& s,
                     const std::vector<int32_t>& ids, const std::function<bool(const std::string&)>& send) {
  ScheduledJob& job = *s.job;
  ChoiceOutput c;
  c.index = static_cast<int>(s.prompt) * call.n + s.j;
  size_t offset = 0;
  bool first = true;
  if (call.echo) {  // the prompt (and its scores) first
    c.text = call.prompts[s.prompt].text;
    std::vector<TokenLogprob> prompt_lps = call.logprobs >= 0 ? job.prompt_logprobs() : std::vector<TokenLogprob>{};
    c.logprobs = logprobs_json(call, tok, ids, prompt_lps, {}, offset);
    if (!send(sse_data(completion_chunk(call, head, c, true)))) return;
    first = false;
  }
  StreamedText text(call.opts.stop);
  std::string piece;
  std::vector<TokenLogprob> lps, pending;
  size_t sent_lps = 0;
  while (job.next_piece(piece, lps)) {
    pending.insert(pending.end(), lps.begin(), lps.end());
    c.text = text.add(piece);
    if (c.text.empty() && !first) continue;
    sent_lps += pending.size();
    c.logprobs = logprobs_json(call, tok, {}, {}, pending, offset);
    pending.clear();
    if (!send(sse_data(completion_chunk(call, head, c, first)))) return;
    first = false;
  }
  const DecodeResult& r = job.wait();
  std::vector<TokenLogprob> kept = kept_logprobs(tok, r);
  std::vector<TokenLogprob> rest(kept.begin() + std::min(sent_lps, kept.size()), kept.end());
  c.text = text.finish(r.text);
  c.finish_reason = r.finish_reason;
  c.logprobs = logprobs_json(call, tok, {}, {}, rest, offset);
  send(sse_data(completion_chunk(call, head, c, first)));
}

void stream_completion(const CompletionCall& call, const CompletionOutput& head, const Tokenizer& tok,
                       std::vector<Sequence> seqs, std::vector<std::vector<int32_t>> ids, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [call, head, &tok, seqs, ids](size_t, httplib::DataSink& sink) {
    bool ok = true;
    auto send = [&](const std::string& s) {
      ok = ok && sink.write(s.data(), s.size());
      return ok;
    };
    CompletionOutput out = head;
    for (const Sequence& s : seqs) {  // the choices one after another, each as it is decoded
      if (ok) stream_sequence(call, head, tok, s, ids[s.prompt], send);
      if (!ok) break;
      out.completion_tokens += static_cast<int>(s.job->wait().ids.size());
    }
    if (!ok) {  // the client went away
      for (const Sequence& s : seqs) s.job->cancel();
      return false;
    }
    for (const auto& p : ids) out.prompt_tokens += static_cast<int>(p.size());
    if (call.include_usage && !send(sse_data(usage_chunk(call, out)))) return false;
    if (!send(sse_done())) return false;
    sink.done();
    return true;
  });
}

// The choices of one prompt's finished sequences: the n most likely of best_of, in order of j otherwise.
void add_choices(const CompletionCall& call, const Tokenizer& tok, const std::vector<const Sequence*>& group,
                 const std::vector<int32_t>& ids, CompletionOutput& out) {
  std::vector<const Sequence*> order = group;
  if (call.best_of > call.n)
    std::stable_sort(order.begin(), order.end(), [](const Sequence* a, const Sequence* b) {
      return total_logprob(a->job->wait()) > total_logprob(b->job->wait());
    });
  const std::vector<TokenLogprob>& prompt_lps = group.front()->job->wait().prompt_logprobs;
  for (int k = 0; k < call.n; ++k) {
    const DecodeResult& r = order[k]->job->wait();
    ChoiceOutput c;
    c.index = static_cast<int>(group.front()->prompt) * call.n + k;
    c.text = call.echo ? call.prompts[group.front()->prompt].text + r.text : r.text;
    c.finish_reason = r.finish_reason;
    size_t offset = 0;
    c.logprobs = logprobs_json(call, tok, call.echo ? ids : std::vector<int32_t>{}, prompt_lps, kept_logprobs(tok, r), offset);
    out.choices.push_back(std::move(c));
  }
}

}  // namespace

void handle_completion(ServeContext& ctx, const httplib::Request& req, httplib::Response& res, ApiEndpoint endpoint) {
  CompletionCall call = parse_completion_call(parse_request_json(req.body), endpoint, ctx.opts.limits);
  const Tokenizer& tok = ctx.scheduler.model().tokenizer();
  std::vector<std::vector<int32_t>> ids;
  for (PromptInput& p : call.prompts) ids.push_back(prompt_ids(ctx, call, p));
  std::vector<Sequence> seqs = submit_all(ctx, call, ids);
  CompletionOutput out;
  out.id = response_id(endpoint == ApiEndpoint::kChat ? "chatcmpl-" : "cmpl-");
  out.created = unix_now();
  out.model = ctx.opts.model_name;
  if (call.stream) {
    stream_completion(call, out, tok, std::move(seqs), std::move(ids), res);
    return;
  }
  for (const Sequence& s : seqs)
    while (!s.job->wait_for(0.1))
      if (client_gone()) {  // nobody waits for the answer: its sequences leave the batch or the queue
        for (const Sequence& c : seqs) c.job->cancel();
        return;
      }
  for (size_t p = 0; p < ids.size(); ++p) {
    std::vector<const Sequence*> group;
    for (const Sequence& s : seqs)
      if (s.prompt == p) group.push_back(&s);
    add_choices(call, tok, group, ids[p], out);
    out.prompt_tokens += static_cast<int>(ids[p].size());
  }
  for (const Sequence& s : seqs) out.completion_tokens += static_cast<int>(s.job->wait().ids.size());
  res.set_content(completion_response(call, out).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void handle_models(ServeContext& ctx, httplib::Response& res) {
  json model{{"id", ctx.opts.model_name}, {"object", "model"}, {"created", 0}, {"owned_by", "steper"}};
  res.set_content(json{{"object", "list"}, {"data", json::array({model})}}.dump(), "application/json");
}

}  // namespace steper
