#include "rag/loop.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <unordered_set>

#include "core/error.h"
#include "eval/metrics.h"

namespace steper {

// ---- Modes

RagMode rag_mode_from_string(const std::string& s) {
  if (s == "multi") return RagMode::kMulti;
  if (s == "single") return RagMode::kSingle;
  if (s == "none") return RagMode::kNone;
  throw Error("--mode: expected multi, single or none, got \"" + s + "\"");
}

const char* rag_mode_name(RagMode m) {
  switch (m) {
    case RagMode::kMulti: return "multi";
    case RagMode::kSingle: return "single";
    case RagMode::kNone: return "none";
  }
  return "?";
}

// ---- Sentences

static std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// The first sentence of a continuation: up to the first '.', '!' or '?' followed by whitespace or the end.
std::string first_sentence(const std::string& text) {
  std::string t = trim(text.substr(0, text.find('\n')));
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if ((c == '.' || c == '!' || c == '?') &&
        (i + 1 == t.size() || std::isspace(static_cast<unsigned char>(t[i + 1]))))
      return t.substr(0, i + 1);
  }
  return t;
}

// ---- Writers

LmStepWriter::LmStepWriter(TextGenerator& generator, const RagOptions& opts) : generator_(generator), opts_(opts) {}

std::string LmStepWriter::prompt_for(const RagState& state) const {
  return opts_.prompt_prefix + build_prompt(state.question->question, state.passages, opts_.prompt) +
         join_sentences(state.sentences);
}

std::vector<std::string> LmStepWriter::write(const std::vector<const RagState*>& states) {
  std::vector<GenerateRequest> requests;
  requests.reserve(states.size());
  for (const RagState* s : states) {
    GenerateRequest r;
    r.prompt = prompt_for(*s);
    r.max_tokens = opts_.max_sentence_tokens;
    r.stop = {"\n"};
    requests.push_back(std::move(r));
  }
  std::vector<GenerateResult> results = generator_.generate(requests);
  if (results.size() != states.size())
    throw Error(generator_.name() + ": returned " + std::to_string(results.size()) + " results for " +
                std::to_string(states.size()) + " prompts");
  std::vector<std::string> out;
  out.reserve(results.size());
  for (const auto& r : results) out.push_back(first_sentence(r.text));
  return out;
}

std::string LmStepWriter::name() const { return generator_.name(); }

// The sentence of one supporting fact from the question's context, or (without context) from the
// accumulated passage of that title split into sentences.
static std::string supporting_sentence(const RagState& state, const SupportingFact& f) {
  const Question& q = *state.question;
  for (const auto& c : q.context) {
    if (c.title != f.title) continue;
    if (f.sent_id < 0 || static_cast<size_t>(f.sent_id) >= c.sentences.size())
      throw Error("question " + q.id + ": supporting fact (" + f.title + ", " + std::to_string(f.sent_id) +
                  ") is beyond the paragraph's " + std::to_string(c.sentences.size()) + " sentences");
    return trim(c.sentences[static_cast<size_t>(f.sent_id)]);
  }
  for (const auto& p : state.passages) {
    if (p.title != f.title) continue;
    std::vector<std::string> sentences;
    std::string rest = p.text;
    while (!trim(rest).empty()) {
      std::string s = first_sentence(rest);
      sentences.push_back(s);
      size_t at = rest.find(s);
      rest = at == std::string::npos ? "" : rest.substr(at + s.size());
    }
    if (static_cast<size_t>(f.sent_id) < sentences.size()) return sentences[static_cast<size_t>(f.sent_id)];
  }
  throw Error("question " + q.id + ": no context paragraph or retrieved passage titled \"" + f.title +
              "\" for its supporting fact");
}

std::vector<std::string> GoldStepWriter::write(const std::vector<const RagState*>& states) {
  std::vector<std::string> out;
  out.reserve(states.size());
  for (const RagState* s : states) {
    const Question& q = *s->question;
    if (q.supporting_facts.empty())
      throw Error("question " + q.id + ": the gold writer needs supporting facts, and this question has none");
    if (q.answers.empty()) throw Error("question " + q.id + ": the gold writer needs a gold answer");
    size_t step = s->sentences.size();
    if (step < q.supporting_facts.size()) out.push_back(supporting_sentence(*s, q.supporting_facts[step]));
    else out.push_back("So the answer is: " + q.answers[0] + ".");
  }
  return out;
}

// ---- The loop

namespace {

// The query for the state's next step, or "" when this step retrieves nothing.
std::string next_query(const RagState& st, const RagOptions& opts) {
  if (opts.mode == RagMode::kNone) return "";
  if (st.sentences.empty()) return ircot_clean_query(st.question->question);
  if (opts.mode == RagMode::kSingle) return "";
  const std::string& last = st.sentences.back();
  if (ircot_is_conclusion(last) || is_answer_sentence(last)) return "";
  return ircot_clean_query(last);
}

void add_passages(RagState& st, const std::vector<ScoredPassage>& found, int max_passages) {
  for (const auto& sp : found) {
    if (static_cast<int>(st.passages.size()) >= max_passages) return;
    bool seen = false;
    for (const auto& p : st.passages)
      if (p.id == sp.passage.id) {
        seen = true;
        break;
      }
    if (!seen) st.passages.push_back(sp.passage);
  }
}

}  // namespace

std::vector<Trace> rag_run(const std::vector<Question>& questions, Retriever* retriever, StepWriter& writer,
                           const RagOptions& opts, const std::function<void(const Trace&)>& on_done) {
  if (opts.mode != RagMode::kNone && retriever == nullptr)
    throw Error(std::string("rag: mode ") + rag_mode_name(opts.mode) + " needs a retriever");
  if (opts.max_steps < 1) throw Error("--max-steps must be at least 1");
  if (opts.k < 1) throw Error("-k must be at least 1");
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
  }

  std::vector<size_t> active;
  size_t next = 0;
  while (true) {
    while (active.size() < batch && next < states.size()) active.push_back(next++);
    if (active.empty()) break;

    // one retrieval call for every state that retrieves at this round
    std::vector<std::string> queries(active.size());
    std::vector<std::string> batch_queries;
    std::vector<size_t> query_slot;
    for (size_t a = 0; a < active.size(); ++a) {
      queries[a] = next_query(states[active[a]], opts);
      if (!queries[a].empty()) {
        batch_queries.push_back(queries[a]);
        query_slot.push_back(a);
      }
    }
    std::vector<std::vector<ScoredPassage>> found(active.size());
    if (!batch_queries.empty()) {
      std::vector<std::vector<ScoredPassage>> results = retriever->search_batch(batch_queries, opts.k);
      if (results.size() != batch_queries.size())
        throw Error("rag: the retriever returned " + std::to_string(results.size()) + " result lists for " +
                    std::to_string(batch_queries.size()) + " queries");
      for (size_t i = 0; i < query_slot.size(); ++i) found[query_slot[i]] = std::move(results[i]);
    }
    std::vector<const RagState*> writing;
    for (size_t a = 0; a < active.size(); ++a) {
      RagState& st = states[active[a]];
      add_passages(st, found[a], opts.max_passages);
      writing.push_back(&st);
    }

    // one writer call for every state
    std::vector<std::string> sentences = writer.write(writing);
    if (sentences.size() != writing.size())
      throw Error(writer.name() + ": wrote " + std::to_string(sentences.size()) + " sentences for " +
                  std::to_string(writing.size()) + " questions");

    std::vector<size_t> still;
    for (size_t a = 0; a < active.size(); ++a) {
      RagState& st = states[active[a]];
      TraceStep step;
      step.query = queries[a];
      step.retrieved = std::move(found[a]);
      step.sentence = sentences[a];
      st.trace.steps.push_back(std::move(step));
      st.sentences.push_back(sentences[a]);
      if (is_answer_sentence(sentences[a])) {
        st.trace.answered = true;
        st.trace.answer = extract_answer(sentences[a]);
        st.trace.correct = best_exact_match(st.trace.answer, st.question->answers) > 0;
        st.done = true;
      } else if (sentences[a].empty() || static_cast<int>(st.sentences.size()) >= opts.max_steps) {
        // an empty sentence ends the question: the same prompt would only produce it again
        st.done = true;
      }
      if (st.done) {
        if (on_done) on_done(st.trace);
      } else {
        still.push_back(active[a]);
      }
    }
    active = std::move(still);
  }

  std::vector<Trace> traces;
  traces.reserve(states.size());
  for (auto& st : states) traces.push_back(std::move(st.trace));
  return traces;
}

}  // namespace steper
