// The text analysis shared by indexing and querying (internal to retrieval/): Xapian's English
// (Porter2) stemmer on every word, the Lucene/Elasticsearch English stop words, and Xapian's BM25.
// IRCoT indexed with Elasticsearch's "english" analyzer; this mirrors it with Xapian's pieces.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <xapian.h>

#include "core/types.h"

namespace steper {

// Metadata key marking a folder as a steper index; its value is JSON {"format", "passages", ...}.
extern const char* const kIndexMetadataKey;
// Format 2 stores passages length-prefixed (bm25_record.h); format 1 stored them as JSON.
constexpr int kIndexFormat = 2;

// BM25 parameters (Elasticsearch/Lucene defaults, which IRCoT used): k1 = 1.2, b = 0.75; k2 = 0
// (no extra length term), k3 = 1 (query term frequency), Xapian's minimum normalised length 0.5.
constexpr double kBm25K1 = 1.2, kBm25K2 = 0.0, kBm25K3 = 1.0, kBm25B = 0.75, kBm25MinNormlen = 0.5;
Xapian::BM25Weight bm25_weight();

// The 33 English stop words of Lucene's EnglishAnalyzer (Elasticsearch's "_english_").
const std::vector<std::string>& english_stop_words();

// Not copyable: the term generator keeps pointers to the stemmer and stopper. One per thread.
class Bm25Analyzer {
 public:
  Bm25Analyzer();
  Bm25Analyzer(const Bm25Analyzer&) = delete;
  Bm25Analyzer& operator=(const Bm25Analyzer&) = delete;

  // Adds the words of `text` to `doc`: each non-stop word adds `wdf_inc` to its stemmed term.
  void analyzer_index(Xapian::Document& doc, const std::string& text, Xapian::termcount wdf_inc = 1,
                      const std::string& prefix = "");
  // Adds a passage's words to `doc`: BM25 runs over title + text as one field (the title's words count
  // like the text's). Both kinds of index analyse passages with this.
  void analyzer_index_passage(Xapian::Document& doc, const Passage& p);
  // The terms a query searches for, with their within-query frequencies, in term order.
  std::vector<std::pair<std::string, Xapian::termcount>> analyzer_query_terms(const std::string& query);

 private:
  Xapian::Stem stem_;
  Xapian::SimpleStopper stopper_;
  Xapian::TermGenerator generator_;
};

// Prefix of the title terms (indexed with wdf 0, so they never change BM25 lengths; for filters).
extern const char* const kTitlePrefix;
// Prefix of the boolean term holding the passage id.
extern const char* const kIdPrefix;

}  // namespace steper
