#include "rag/loop.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <unordered_set>

#include "core/error.h"
#include "core/loop_fields.h"
#include "core/evidence.h"
#include "core/text.h"
#include "eval/metrics.h"
#include "rag/framework.h"
#include "rag/gold_follow_up.h"

namespace steper {

// ---- Options

void validate_loop_options(const LoopOptions& o) {
  for (const auto& f : loop_int_options()) {
    const int v = o.*f.member;
    if (v < f.lo || v > f.hi)
      throw Error(std::string(f.flag) + " must be in [" + std::to_string(f.lo) + ", " + std::to_string(f.hi) +
                  "], got " + std::to_string(v));
  }
  validate_framework(o);
}

std::vector<Passage> show_passages(std::vector<Passage>& shown, const std::vector<ScoredPassage>& retrieved,
                                   const LoopOptions& opts) {
  std::vector<Passage> added;
  for (const auto& sp : retrieved) {
    if (static_cast<int>(shown.size()) >= opts.max_passages) break;
    bool seen = false;
    for (const auto& p : shown) seen = seen || p.id == sp.passage.id;
    if (seen) continue;
    shown.push_back(shown_passage(sp.passage, opts.passage_words));
    added.push_back(shown.back());
  }
  return added;
}

void trace_assume_options(Trace& trace, const LoopOptions& given) {
  trace.loop = given;
  trace.has_loop = true;
  std::vector<Passage> shown;
  for (auto& step : trace.steps) step.shown = show_passages(shown, step.retrieved, given);
}

// ---- Sentences

// The first sentence of a continuation: up to the first '.', '!' or '?' followed by whitespace or the end.
std::string first_sentence(const std::string& text) {
  std::string t = trim(first_line(text));
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if ((c == '.' || c == '!' || c == '?') && (i + 1 == t.size() || is_space(t[i + 1])))
      return t.substr(0, i + 1);
  }
  return t;
}

// ---- Writers

LmStepWriter::LmStepWriter(TextGenerator& generator, const RagOptions& opts) : generator_(generator), opts_(opts) {}

namespace {
// One key per question in flight (its address: question ids need not be unique).
std::string cache_key(const RagState& state) {
  return "question:" + std::to_string(reinterpret_cast<uintptr_t>(state.question));
}
}  // namespace

LmStepWriter::StepPrompt LmStepWriter::fitted_prompt(const RagState& state) const {
  auto render = [&](const std::vector<Passage>& shown) {
    return opts_.prompt_prefix +
           step_prompt(opts_.loop, state.question->question, shown, state.sentences, state.follow_up);
  };
  StepPrompt p;
  const int64_t context = generator_.context_tokens();
  if (context <= 0) {  // a generator that does not say: the prompt as it is
    p.text = render(state.shown);
    return p;
  }
  p.fit = fit_prompt(state.shown, context - opts_.max_sentence_tokens, render,
                     [&](const std::string& prompt) { return generator_.prompt_tokens(prompt); });
  if (!p.fit.fits && state.sentences.empty() && state.follow_up.empty())
    throw Error("question " + state.question->id + ": its prompt takes " + std::to_string(p.fit.tokens) +
                " tokens without any passage, which leaves no room for a sentence of " +
                std::to_string(opts_.max_sentence_tokens) + " tokens in the model's context of " +
                std::to_string(context) + " tokens");
  if (p.fit.fits) p.text = render(fitted_passages(state.shown, p.fit.dropped, p.fit.words));
  return p;
}

std::string LmStepWriter::prompt_for(const RagState& state) const { return fitted_prompt(state).text; }

std::vector<Written> LmStepWriter::write(const std::vector<const RagState*>& states) {
  std::vector<GenerateRequest> requests;
  std::vector<Written> out(states.size());
  std::vector<size_t> sent;  // the states whose prompt went to the generator
  for (size_t i = 0; i < states.size(); ++i) {
    StepPrompt p = fitted_prompt(*states[i]);
    if (!p.fit.fits) {
      out[i] = Written::stop(TraceEnd::kContextFull, "the prompt takes " + std::to_string(p.fit.tokens) +
                                                         " tokens without any passage");
      continue;
    }
    out[i].fit_dropped = p.fit.dropped;
    out[i].fit_words = p.fit.words;
    GenerateRequest r;
    r.prompt = std::move(p.text);
    r.max_tokens = opts_.max_sentence_tokens;
    r.stop = {"\n"};
    r.cache_key = cache_key(*states[i]);
    requests.push_back(std::move(r));
    sent.push_back(i);
  }
  if (requests.empty()) return out;
  std::vector<GenerateResult> results = generator_.generate(requests);
  if (results.size() != requests.size())
    throw Error(generator_.name() + ": returned " + std::to_string(results.size()) + " results for " +
                std::to_string(requests.size()) + " prompts");
  for (size_t k = 0; k < sent.size(); ++k) {
    Written& w = out[sent[k]];
    const int dropped = w.fit_dropped, words = w.fit_words;
    w = Written::next(written_text(opts_.loop, results[k].text));
    w.fit_dropped = dropped;
    w.fit_words = words;
  }
  return out;
}

std::string LmStepWriter::name() const { return generator_.name(); }

void LmStepWriter::finished(const RagState& state) { generator_.release(cache_key(state)); }

// ---- The gold reader

namespace {

std::vector<std::string> split_sentences(const std::string& text) {
  std::vector<std::string> sentences;
  std::string rest = text;
  while (!trim(rest).empty()) {
    std::string s = first_sentence(rest);
    sentences.push_back(s);
    size_t at = rest.find(s);
    rest = at == std::string::npos ? "" : rest.substr(at + s.size());
  }
  return sentences;
}

// The sentence of supporting fact `f`, or "" when the reader may not see it.
std::string supporting_sentence(const RagState& state, size_t f, GoldPolicy policy) {
  const Question& q = *state.question;
  const SupportingFact& fact = q.supporting_facts[f];
  if (policy == GoldPolicy::kRetrieved && !fact_shown(q, f, state.shown)) return "";
  const std::string title = trim(fact.title);
  if (!q.context.empty()) {
    for (const auto& c : q.context) {
      if (trim(c.title) != title) continue;
      if (fact.sent_id < 0 || static_cast<size_t>(fact.sent_id) >= c.sentences.size())
        throw Error("question " + q.id + ": supporting fact (" + fact.title + ", " + std::to_string(fact.sent_id) +
                    ") is beyond the paragraph's " + std::to_string(c.sentences.size()) + " sentences");
      return trim(c.sentences[static_cast<size_t>(fact.sent_id)]);
    }
    throw Error("question " + q.id + ": supporting fact title \"" + fact.title + "\" names no context paragraph");
  }
  if (policy == GoldPolicy::kOracle)
    throw Error("question " + q.id + ": the oracle reader copies from the question's context, and it has none");
  for (const auto& p : state.shown) {
    if (trim(p.title) != title) continue;
    std::vector<std::string> sentences = split_sentences(p.text);
    if (fact.sent_id >= 0 && static_cast<size_t>(fact.sent_id) < sentences.size())
      return sentences[static_cast<size_t>(fact.sent_id)];
  }
  return "";  // shown, but the sentence is not within what the prompt holds of it
}

}  // namespace

std::vector<Written> GoldReader::write(const std::vector<const RagState*>& states) {
  std::vector<Written> out;
  out.reserve(states.size());
  for (const RagState* s : states) {
    const Question& q = *s->question;
    if (q.supporting_facts.empty()) {
      out.push_back(Written::stop(TraceEnd::kNoSupportingFacts));
      continue;
    }
    if (q.answers.empty()) throw Error("question " + q.id + ": the gold reader needs a gold answer");
    const LoopOptions& loop = s->trace.loop;
    const size_t step = s->sentences.size();
    const bool self_ask = framework_of(loop) == Framework::kSelfAsk;
    if (step >= q.supporting_facts.size() && (!self_ask || s->follow_up.empty())) {
      out.push_back(Written::next(answer_step(loop, q.answers[0])));
      continue;
    }
    if (self_ask && s->follow_up.empty()) {  // the follow-up is asked before its passages are retrieved
      out.push_back(Written::next(kFollowUpMarker + gold_follow_up(q, step, seed_)));
      continue;
    }
    std::string sentence = supporting_sentence(*s, step, policy_);
    if (sentence.empty())
      out.push_back(Written::stop(TraceEnd::kEvidenceMissing,
                                  "supporting paragraph \"" + q.supporting_facts[step].title + "\" not shown by step " +
                                      std::to_string(step + 1)));
    else
      out.push_back(Written::next(sentence));
  }
  return out;
}

// ---- The loop

namespace {

void finish(RagState& st, TraceEnd end, std::string detail = "") {
  st.trace.end = end;
  st.trace.end_detail = std::move(detail);
  st.done = true;
}

void record_step(RagState& st, std::string query, std::vector<ScoredPassage> retrieved, std::vector<Passage> shown,
                 const std::string& text, const Written& fit) {
  TraceStep step;
  step.query = std::move(query);
  step.retrieved = std::move(retrieved);
  step.shown = std::move(shown);
  step.sentence = text;
  step.fit_dropped = fit.fit_dropped;
  step.fit_words = fit.fit_words;
  st.trace.steps.push_back(std::move(step));
  st.sentences.push_back(text);
}

void record_answer(RagState& st) {
  const LoopOptions& loop = st.trace.loop;
  st.trace.answered = true;
  st.trace.answer = answer_of_step(loop, st.sentences.back());
  st.trace.correct = best_exact_match(st.trace.answer, st.question->answers) > 0;
  finish(st, TraceEnd::kAnswered);
}

// Self-Ask's follow-up phase: each state writes its follow-up (kept for retrieval and the answer phase) or
// the final answer (a step of its own, retrieving nothing), or ends.
void self_ask_follow_ups(std::vector<RagState>& states, const std::vector<size_t>& active, StepWriter& writer) {
  std::vector<const RagState*> writing;
  for (size_t i : active) writing.push_back(&states[i]);
  std::vector<Written> written = writer.write(writing);
  if (written.size() != writing.size())
    throw Error(writer.name() + ": wrote " + std::to_string(written.size()) + " follow-ups for " +
                std::to_string(writing.size()) + " questions");
  for (size_t a = 0; a < active.size(); ++a) {
    RagState& st = states[active[a]];
    if (written[a].ended) {
      finish(st, written[a].end, written[a].detail);
      continue;
    }
    FollowUpLine line = parse_follow_up_line(written[a].sentence);
    if (line.kind == FollowUpLine::kFinal) {
      record_step(st, "", {}, {}, line.text, written[a]);  // the follow-up prompt was this step's
      record_answer(st);
    } else if (line.kind == FollowUpLine::kEmpty) {
      finish(st, TraceEnd::kEmptySentence);
    } else if (line.kind == FollowUpLine::kOther) {
      finish(st, TraceEnd::kNoFollowUp, line.text);
    } else {
      TraceEnd end = follow_up_end(st.trace.loop, st.sentences, line.text);
      if (end != TraceEnd::kAnswered) finish(st, end, line.text);
      else st.follow_up = line.text;
    }
  }
}

// What the step's writing made of the state: IRCoT's sentence, or Self-Ask's intermediate answer.
void take_written(RagState& st, const Written& w, std::string query, std::vector<ScoredPassage> found,
                  std::vector<Passage> added) {
  const LoopOptions& loop = st.trace.loop;
  if (w.ended) {  // the writer ended the question without a sentence: no step is recorded
    finish(st, w.end, w.detail);
    return;
  }
  if (framework_of(loop) == Framework::kSelfAsk) {
    if (w.sentence.empty()) {  // the same prompt would only produce it again
      finish(st, TraceEnd::kEmptySentence, "no intermediate answer to: " + st.follow_up);
      return;
    }
    record_step(st, std::move(query), std::move(found), std::move(added), self_ask_pair(st.follow_up, w.sentence), w);
    st.follow_up.clear();
    return;
  }
  record_step(st, std::move(query), std::move(found), std::move(added), w.sentence, w);
  if (is_answer_step(loop, w.sentence)) record_answer(st);
  else if (w.sentence.empty()) finish(st, TraceEnd::kEmptySentence);
  else if (static_cast<int>(st.sentences.size()) >= loop.max_steps) finish(st, TraceEnd::kMaxSteps);
}

}  // namespace

std::vector<Trace> rag_run(const std::vector<Question>& questions, Retriever* retriever, StepWriter& writer,
                           const RagOptions& opts, const std::function<void(const Trace&)>& on_done) {
  if (opts.loop.mode != RagMode::kNone && retriever == nullptr)
    throw Error(std::string("rag: mode ") + rag_mode_name(opts.loop.mode) + " needs a retriever");
  validate_loop_options(opts.loop);
  const size_t batch = static_cast<size_t>(std::max(1, opts.batch_size));

  std::vector<RagState> states(questions.size());
  for (size_t i = 0; i < questions.size(); ++i) {
    RagState& st = states[i];
    const Question& q = questions[i];
    st.question = &q;
    st.trace.id = q.id;
    st.trace.question = q.question;
    st.trace.answers = q.answers;
    st.trace.type = q.type;
    st.trace.hops = q.hops;
    st.trace.teacher = writer.name();
    st.trace.loop = opts.loop;
    st.trace.has_loop = true;
  }

  const bool self_ask = framework_of(opts.loop) == Framework::kSelfAsk;
  std::vector<size_t> active;
  size_t next = 0;
  auto drop_done = [&] {
    std::vector<size_t> still;
    for (size_t i : active) {
      if (!states[i].done) {
        still.push_back(i);
        continue;
      }
      writer.finished(states[i]);
      if (on_done) on_done(states[i].trace);
    }
    active = std::move(still);
  };
  while (true) {
    while (active.size() < batch && next < states.size()) active.push_back(next++);
    if (active.empty()) break;
    if (self_ask) {
      self_ask_follow_ups(states, active, writer);
      drop_done();
      if (active.empty()) continue;
    }

    // one retrieval call for every state that retrieves at this round
    std::vector<std::string> queries(active.size());
    std::vector<std::string> batch_queries;
    std::vector<size_t> query_slot;
    for (size_t a = 0; a < active.size(); ++a) {
      const RagState& st = states[active[a]];
      queries[a] = step_query(opts.loop, st.question->question, st.sentences, st.follow_up);
      if (!queries[a].empty()) {
        batch_queries.push_back(queries[a]);
        query_slot.push_back(a);
      }
    }
    std::vector<std::vector<ScoredPassage>> found(active.size());
    if (!batch_queries.empty()) {
      std::vector<std::vector<ScoredPassage>> results = retriever->search_batch(batch_queries, opts.loop.k);
      if (results.size() != batch_queries.size())
        throw Error("rag: the retriever returned " + std::to_string(results.size()) + " result lists for " +
                    std::to_string(batch_queries.size()) + " queries");
      for (size_t i = 0; i < query_slot.size(); ++i) found[query_slot[i]] = std::move(results[i]);
    }
    std::vector<const RagState*> writing;
    std::vector<std::vector<Passage>> added(active.size());
    for (size_t a = 0; a < active.size(); ++a) {
      RagState& st = states[active[a]];
      added[a] = show_passages(st.shown, found[a], opts.loop);
      writing.push_back(&st);
    }

    // one writer call for every state
    std::vector<Written> written = writer.write(writing);
    if (written.size() != writing.size())
      throw Error(writer.name() + ": wrote " + std::to_string(written.size()) + " sentences for " +
                  std::to_string(writing.size()) + " questions");

    for (size_t a = 0; a < active.size(); ++a)
      take_written(states[active[a]], written[a], std::move(queries[a]), std::move(found[a]), std::move(added[a]));
    drop_done();
  }

  std::vector<Trace> traces;
  traces.reserve(states.size());
  for (auto& st : states) traces.push_back(std::move(st.trace));
  return traces;
}

}  // namespace steper
