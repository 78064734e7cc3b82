#include "retrieval/bm25_analyzer.h"

namespace steper {

const char* const kIndexMetadataKey = "steper_index";
const char* const kTitlePrefix = "S";
const char* const kIdPrefix = "Q";

Xapian::BM25Weight bm25_weight() { return Xapian::BM25Weight(kBm25K1, kBm25K2, kBm25K3, kBm25B, kBm25MinNormlen); }

const std::vector<std::string>& english_stop_words() {
  static const std::vector<std::string> words = {
      "a",    "an",   "and",   "are",  "as",    "at",    "be",   "but",  "by",   "for",  "if",
      "in",   "into", "is",    "it",   "no",    "not",   "of",   "on",   "or",   "such", "that",
      "the",  "their", "then", "there", "these", "they", "this", "to",   "was",  "will", "with"};
  return words;
}

// ---- Bm25Analyzer

Bm25Analyzer::Bm25Analyzer() : stem_("english") {
  for (const auto& w : english_stop_words()) stopper_.add(w);
  generator_.set_stemmer(stem_);
  generator_.set_stopper(&stopper_);
  generator_.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
  // Every word is stemmed (like Elasticsearch's english analyzer); no unstemmed terms, no positions.
  generator_.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL_Z);
}

void Bm25Analyzer::analyzer_index(Xapian::Document& doc, const std::string& text, Xapian::termcount wdf_inc,
                                  const std::string& prefix) {
  generator_.set_document(doc);
  generator_.index_text_without_positions(text, wdf_inc, prefix);
}

void Bm25Analyzer::analyzer_index_passage(Xapian::Document& doc, const Passage& p) {
  analyzer_index(doc, p.title);
  analyzer_index(doc, p.text);
}

std::vector<std::pair<std::string, Xapian::termcount>> Bm25Analyzer::analyzer_query_terms(const std::string& query) {
  Xapian::Document scratch;
  analyzer_index(scratch, query);
  std::vector<std::pair<std::string, Xapian::termcount>> terms;
  for (auto it = scratch.termlist_begin(); it != scratch.termlist_end(); ++it) terms.emplace_back(*it, it.get_wdf());
  return terms;
}

}  // namespace steper
