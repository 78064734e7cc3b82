// Searching native indexes (internal to retrieval/): one or more native index folders searched as
// one, with BM25 statistics over all their passages.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "retrieval/retriever.h"

namespace steper {

// Opens the native index folders or shard folders `dirs` (in spec order) as one retriever. Throws
// Error naming the folder or shard that is missing or damaged.
std::unique_ptr<Retriever> native_open(const std::vector<std::string>& dirs, int threads);

}  // namespace steper
