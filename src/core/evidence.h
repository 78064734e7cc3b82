// Evidence found by step s: the one definition the gold reader, the teacher's filter and the evaluation
// report share. What counts is what the writer's prompt showed (TraceStep::shown), not what retrieval
// returned beyond the cap. Titles are compared after trimming.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

// The distinct supporting titles of a question, trimmed, in the order of their first supporting fact.
std::vector<std::string> supporting_titles(const Question& question);

// The passages of `shown` a fitted prompt keeps (TraceStep::fit_dropped, fit_words): all but the first
// `dropped`, the next one cut to its first `words` words when words > 0.
std::vector<Passage> fitted_passages(const std::vector<Passage>& shown, int dropped, int words);

// P<=s for s = 1..S: the passages each step's prompt showed (trace.steps[0..s-1].shown concatenated; a step
// whose prompt was fitted to the model's context less the passages its fit dropped, the next one cut).
std::vector<std::vector<Passage>> shown_by_step(const Trace& trace);

// Whether a passage titled `title` is among `shown`.
bool title_shown(const std::string& title, const std::vector<Passage>& shown);

// Whether the paragraph of the question's supporting fact `fact` (0-based) is among `shown`; true for a
// fact index past the last fact.
bool fact_shown(const Question& question, size_t fact, const std::vector<Passage>& shown);

// Step-aligned rule (step s writes supporting fact s): every fact s's paragraph shown by step s (facts
// beyond the trace's last step: by its last step). False without supporting facts or steps.
bool evidence_shown_by_step(const Trace& trace, const Question& question);
// Looser rule: every supporting title shown at some step.
bool evidence_shown(const Trace& trace, const Question& question);

// Share (0..1) of the question's supporting titles shown by steps 1..step (cumulative); a step beyond
// the trace's last counts the whole trace. -1 when the question has no supporting facts.
double supporting_recall_at(const Trace& trace, const Question& question, size_t step);

}  // namespace steper
