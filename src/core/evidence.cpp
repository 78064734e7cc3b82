#include "core/evidence.h"

#include <algorithm>

#include "core/text.h"

namespace steper {

std::vector<std::string> supporting_titles(const Question& question) {
  std::vector<std::string> titles;
  for (const auto& f : question.supporting_facts) {
    std::string t = trim(f.title);
    if (std::find(titles.begin(), titles.end(), t) == titles.end()) titles.push_back(t);
  }
  return titles;
}

std::vector<Passage> fitted_passages(const std::vector<Passage>& shown, int dropped, int words) {
  const size_t from = std::min(shown.size(), static_cast<size_t>(std::max(0, dropped)));
  std::vector<Passage> out(shown.begin() + static_cast<std::ptrdiff_t>(from), shown.end());
  if (words > 0 && !out.empty()) out[0].text = first_words(out[0].text, words);
  return out;
}

std::vector<std::vector<Passage>> shown_by_step(const Trace& trace) {
  std::vector<std::vector<Passage>> out;
  std::vector<Passage> acc;
  for (const auto& step : trace.steps) {
    acc.insert(acc.end(), step.shown.begin(), step.shown.end());
    out.push_back(step.fitted() ? fitted_passages(acc, step.fit_dropped, step.fit_words) : acc);
  }
  return out;
}

bool title_shown(const std::string& title, const std::vector<Passage>& shown) {
  const std::string t = trim(title);
  for (const auto& p : shown)
    if (trim(p.title) == t) return true;
  return false;
}

bool fact_shown(const Question& question, size_t fact, const std::vector<Passage>& shown) {
  if (fact >= question.supporting_facts.size()) return true;
  return title_shown(question.supporting_facts[fact].title, shown);
}

bool evidence_shown_by_step(const Trace& trace, const Question& question) {
  if (question.supporting_facts.empty() || trace.steps.empty()) return false;
  std::vector<std::vector<Passage>> by_step = shown_by_step(trace);
  for (size_t f = 0; f < question.supporting_facts.size(); ++f)
    if (!fact_shown(question, f, by_step[std::min(f, by_step.size() - 1)])) return false;
  return true;
}

bool evidence_shown(const Trace& trace, const Question& question) {
  std::vector<std::string> titles = supporting_titles(question);
  if (titles.empty() || trace.steps.empty()) return false;
  const std::vector<Passage> all = shown_by_step(trace).back();
  for (const auto& t : titles)
    if (!title_shown(t, all)) return false;
  return true;
}

double supporting_recall_at(const Trace& trace, const Question& question, size_t step) {
  std::vector<std::string> gold = supporting_titles(question);
  if (gold.empty()) return -1.0;
  if (trace.steps.empty() || step == 0) return 0.0;
  std::vector<std::vector<Passage>> by_step = shown_by_step(trace);
  const std::vector<Passage>& shown = by_step[std::min(step, by_step.size()) - 1];
  size_t found = 0;
  for (const auto& t : gold) found += title_shown(t, shown);
  return static_cast<double>(found) / static_cast<double>(gold.size());
}

}  // namespace steper
