// IRCoT's de-duplication of search results (internal to retrieval/), shared by both kinds of index:
// passages whose text is the same (stripped, lowercased) are returned once, the best-ranked first.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

// The key: the paragraph text, stripped and lowercased.
std::string passage_dedup_key(const Passage& p);

// The top k distinct passages of a ranking. `fetch(want)` returns the top `want` passages in rank
// order (fewer when the index holds fewer matches). It is asked for k first, and for twice as many
// again only while removing duplicates left fewer than k (a larger top set lowers a matcher's score
// threshold, so fetching extra up front slows every query).
std::vector<ScoredPassage> top_k_distinct(int k, const std::function<std::vector<ScoredPassage>(size_t want)>& fetch);

}  // namespace steper
