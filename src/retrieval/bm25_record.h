// The passage a document of the index stores (internal to retrieval/): its id, title and text as
// Xapian document data, length-prefixed ("<id bytes>:<id><title bytes>:<title><text>"), so that
// writing and reading it is a copy, not JSON encoding and parsing. Index format 2; format 1 stored
// JSON and is refused with a message to rebuild (bm25_folder.cpp).
#pragma once

#include <optional>
#include <string>

#include "core/types.h"

namespace steper {

std::string passage_record_encode(const Passage& p);
// Nullopt when `data` is not a passage record (a damaged document).
std::optional<Passage> passage_record_decode(const std::string& data);

}  // namespace steper
