// The native BM25 index (internal to retrieval/): steper's own inverted index, built without Xapian's
// writer and searched with block-max MaxScore, scoring with Xapian's BM25 formula (bm25_scoring.h).
//
// A native index folder holds steper-index.json ({"backend": "native", "format", "shards",
// "passages", ...}) and shard folders shard-000, shard-001, ...; passage i of the de-duplicated
// corpus is document i / shards of shard i % shards. A shard folder holds:
//   shard.json     {"passages", "total_length", "terms", "blocks", "bounds"}
//   terms.bin      NativeTerm[terms], sorted by term bytes
//   names.bin      the term bytes NativeTerm::name_offset points into
//   blocks.bin     NativeBlock[blocks]: each term's postings in blocks of up to kNativeBlock
//   bounds.bin     NativeBound[bounds]: the score bounds of the blocks and terms
//   postings.bin   per block: a byte of widths (bits 0-1 the wdfs', bits 2-3 the lengths': 0, 1, 2 for
//                  1, 2, 4 bytes); varint(doc + 1 - base) a posting, base the previous posting's doc + 1
//                  (the previous block's last_doc + 1 at a block's start, 0 at a term's first block);
//                  then the wdfs and then the passage lengths (non-stop words), fixed width. The length
//                  travels with each posting so that scoring a passage reads no other file, and only
//                  the documents are decoded before a posting may score.
//   passages.bin   the passage records (bm25_record.h), concatenated
//   passages.idx   uint64 offsets of the records, documents + 1 of them
// All integers are little-endian, as the machine writes them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/types.h"

namespace steper {

class Bm25Analyzer;

constexpr int kNativeFormat = 1;
constexpr uint32_t kNativeBlock = 128;
extern const char* const kNativeMetaFile;  // "steper-index.json"

struct NativeTerm {
  uint64_t name_offset;
  uint64_t first_block;
  uint64_t first_bound;  // the term's score bound: bounds.bin[first_bound, + bounds)
  uint32_t name_size;
  uint32_t df;  // documents of this shard holding the term
  uint32_t blocks;
  uint32_t bounds;
};
static_assert(sizeof(NativeTerm) == 40, "on-disk layout");

struct NativeBlock {
  uint64_t offset;       // into postings.bin
  uint64_t first_bound;  // the block's score bound: bounds.bin[first_bound, + bounds)
  uint32_t last_doc;     // the block's last document
  uint16_t count;        // postings in the block (1..kNativeBlock)
  uint16_t bounds;
};
static_assert(sizeof(NativeBlock) == 24, "on-disk layout");

// A posting's (wdf, passage length) that no other posting of its block (or term) beats on both: a
// BM25 part grows with wdf and falls with length, so the largest part of the block is one of these,
// whatever the average length of the index it is searched in.
struct NativeBound {
  uint32_t wdf;
  uint32_t len;
};
static_assert(sizeof(NativeBound) == 8, "on-disk layout");

// Widths of a block's fixed-width fields: code 0, 1, 2 for 1, 2, 4 bytes (0 for a bad code).
inline uint32_t native_width(uint32_t code) { return code == 0 ? 1 : code == 1 ? 2 : code == 2 ? 4 : 0; }
inline uint32_t native_width_code(uint32_t max_value) { return max_value < 0x100 ? 0 : max_value < 0x10000 ? 1 : 2; }
// Value i of a little-endian fixed-width array.
inline uint32_t native_fixed(const uint8_t* at, uint32_t width, uint32_t i) {
  if (width == 1) return at[i];
  if (width == 2) return static_cast<uint32_t>(at[2 * i]) | static_cast<uint32_t>(at[2 * i + 1]) << 8;
  const uint8_t* p = at + 4 * i;
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

// A 64-bit checksum of a file's bytes, fed in pieces: shard.json records one for each file of its
// shard, and opening a shard checks them (a damaged index is an error, not a wrong ranking).
class NativeChecksum {
 public:
  void checksum_add(const void* data, size_t n);
  uint64_t checksum_value() const;

 private:
  void lanes_mix(const uint8_t* chunk);  // 32 bytes
  uint64_t lane_[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull, 0x27D4EB2F165667C5ull};
  uint8_t carry_[32];
  size_t carry_n_ = 0;
  uint64_t total_ = 0;
};
std::string native_checksum_hex(uint64_t v);
// The checksum of shard.json's counts (passages, total_length, terms, blocks, bounds): the statistics
// every score depends on.
std::string native_counts_checksum(const nlohmann::json& shard_meta);

// True when DIR holds a native index's metadata file; a shard folder of one (shard.json), which can
// also be searched on its own or listed with other parts.
bool native_folder_is_index(const std::string& dir);
bool native_folder_is_shard(const std::string& dir);
// The metadata of a native index folder; Throws Error naming DIR when it is malformed or of a format
// this build does not read (unless `any_format`).
nlohmann::json native_folder_meta(const std::string& dir, bool any_format = false);

// Builds one shard of a native index in DIR: passages are added in document order; postings are
// buffered until they take `flush_bytes`, then written out as a sorted run; finishing merges the
// runs into the shard's files. Not thread-safe: one writer per shard.
class NativeShardWriter {
 public:
  NativeShardWriter(const std::string& dir, size_t flush_bytes);
  ~NativeShardWriter();
  NativeShardWriter(const NativeShardWriter&) = delete;
  NativeShardWriter& operator=(const NativeShardWriter&) = delete;

  void writer_add(const Passage& p, Bm25Analyzer& analyzer);
  // Writes the shard's files (and shard.json); the writer is done after it.
  void writer_finish();
  size_t writer_runs() const;  // runs written out so far

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace steper
