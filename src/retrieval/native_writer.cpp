// Writing one shard of the native index: postings inverted in memory, written out as sorted runs
// when they outgrow the flush budget, and merged into the shard's blocked posting lists at the end.
#include <algorithm>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <xapian.h>

#include "core/error.h"
#include "core/io.h"
#include "retrieval/bm25_analyzer.h"
#include "retrieval/bm25_record.h"
#include "retrieval/native_index.h"

namespace steper {

namespace fs = std::filesystem;

const char* const kNativeMetaFile = "steper-index.json";

// ---- checksums: four independent multiply-xor lanes over 32-byte chunks (fast enough to check a
// shard's gigabytes when it is opened), the tail and the length mixed in at the end

namespace {
uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}
}  // namespace

void NativeChecksum::lanes_mix(const uint8_t* chunk) {
  for (int l = 0; l < 4; ++l) {
    uint64_t w;
    std::memcpy(&w, chunk + 8 * l, 8);
    lane_[l] = (lane_[l] ^ w) * 0x9E3779B97F4A7C15ull;
    lane_[l] ^= lane_[l] >> 29;
  }
}

void NativeChecksum::checksum_add(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  total_ += n;
  if (carry_n_ > 0) {
    size_t take = std::min(n, sizeof carry_ - carry_n_);
    std::memcpy(carry_ + carry_n_, p, take);
    carry_n_ += take, p += take, n -= take;
    if (carry_n_ < sizeof carry_) return;
    lanes_mix(carry_);
    carry_n_ = 0;
  }
  for (; n >= 32; p += 32, n -= 32) lanes_mix(p);
  std::memcpy(carry_, p, n);
  carry_n_ = n;
}

uint64_t NativeChecksum::checksum_value() const {
  uint64_t h = mix64(total_);
  for (uint64_t l : lane_) h = mix64(h ^ l);
  for (size_t i = 0; i < carry_n_; ++i) h = mix64(h ^ (static_cast<uint64_t>(carry_[i]) << (8 * (i % 8))) ^ i);
  return h;
}

std::string native_counts_checksum(const nlohmann::json& shard_meta) {
  NativeChecksum sum;
  for (const char* key : {"passages", "total_length", "terms", "blocks", "bounds"}) {
    uint64_t v = shard_meta.contains(key) && shard_meta[key].is_number_unsigned() ? shard_meta[key].get<uint64_t>() : ~0ull;
    sum.checksum_add(&v, sizeof v);
  }
  return native_checksum_hex(sum.checksum_value());
}

std::string native_checksum_hex(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

namespace {

void varint_put(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

void fixed_put(std::vector<uint8_t>& out, uint32_t v, uint32_t width) {
  for (uint32_t b = 0; b < width; ++b) out.push_back(static_cast<uint8_t>(v >> (8 * b)));
}

// Decodes a run's list (docs as doc + 1 - previous, starting from 0; wdf after each): appends to `out`.
struct Posting {
  uint32_t doc, wdf;
};
void run_list_decode(const std::vector<uint8_t>& bytes, std::vector<Posting>& out) {
  uint64_t base = 0;
  for (size_t i = 0; i < bytes.size();) {
    uint64_t v[2] = {0, 0};
    for (int f = 0; f < 2; ++f)
      for (int shift = 0;; shift += 7) {
        uint8_t b = bytes[i++];
        v[f] |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
      }
    base += v[0];
    out.push_back({static_cast<uint32_t>(base - 1), static_cast<uint32_t>(v[1])});
  }
}

// The (wdf, length) pairs no other pair beats on both (a larger wdf and a smaller length).
std::vector<NativeBound> frontier(std::vector<NativeBound> points) {
  std::sort(points.begin(), points.end(), [](const NativeBound& a, const NativeBound& b) {
    return a.wdf != b.wdf ? a.wdf > b.wdf : a.len < b.len;
  });
  std::vector<NativeBound> out;
  for (const NativeBound& p : points)
    if (out.empty() || p.len < out.back().len) out.push_back(p);
  return out;
}

// A file written in one pass; summed unless it is a scratch file (a sorted run, read back by this writer).
class BinaryOut {
 public:
  explicit BinaryOut(const fs::path& path, bool summed = true)
      : path_(path), out_(path.string(), /*durable=*/summed), summed_(summed) {}
  void put(const void* data, size_t n) {
    out_.write(data, n);
    if (summed_) sum_.checksum_add(data, n);
    bytes_ += n;
  }
  template <class T>
  void put_value(const T& v) {
    put(&v, sizeof v);
  }
  uint64_t bytes() const { return bytes_; }
  std::string checksum() const {
    if (!summed_) throw BugError(__FILE__, __LINE__, "the checksum of a scratch file");
    return native_checksum_hex(sum_.checksum_value());
  }
  std::string name() const { return path_.filename().string(); }
  void close() { out_.commit(); }

 private:
  fs::path path_;
  AtomicFile out_;
  bool summed_;
  NativeChecksum sum_;
  uint64_t bytes_ = 0;
};

}  // namespace

struct NativeShardWriter::State {
  fs::path dir;
  size_t flush_bytes;
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<std::string> names;                 // by term id
  std::vector<std::vector<uint8_t>> lists;        // by term id: this run's postings
  std::vector<uint32_t> last;                     // by term id: last doc + 1 in this run (0: none)
  std::vector<uint32_t> lengths;                  // by document
  uint64_t total_length = 0;
  size_t buffered = 0;                            // bytes in `lists`
  std::vector<fs::path> runs;
  BinaryOut passages, offsets;
  Xapian::Document scratch;

  State(const fs::path& d, size_t flush)
      : dir(d), flush_bytes(flush), passages(d / "passages.bin"), offsets(d / "passages.idx") {
    offsets.put_value<uint64_t>(0);
  }

  // The term ids with postings in this run, in term order.
  std::vector<uint32_t> sorted_ids(bool all) const {
    std::vector<uint32_t> out;
    for (uint32_t id = 0; id < lists.size(); ++id)
      if (all || !lists[id].empty()) out.push_back(id);
    std::sort(out.begin(), out.end(), [&](uint32_t a, uint32_t b) { return names[a] < names[b]; });
    return out;
  }

  // Writes this run's postings as [u32 id][u32 bytes][bytes] in term order, and empties them.
  void run_flush() {
    fs::path path = dir / ("run-" + std::to_string(runs.size()) + ".tmp");
    BinaryOut out(path, /*summed=*/false);
    for (uint32_t id : sorted_ids(false)) {
      auto& l = lists[id];
      out.put_value<uint32_t>(id);
      out.put_value<uint32_t>(static_cast<uint32_t>(l.size()));
      out.put(l.data(), l.size());
      std::vector<uint8_t>().swap(l);
    }
    out.close();
    std::fill(last.begin(), last.end(), 0);
    buffered = 0;
    runs.push_back(path);
  }
};

NativeShardWriter::NativeShardWriter(const std::string& dir, size_t flush_bytes) {
  fs::create_directories(dir);
  s_ = std::make_unique<State>(fs::path(dir), std::max<size_t>(flush_bytes, 1024));
}

NativeShardWriter::~NativeShardWriter() = default;

size_t NativeShardWriter::writer_runs() const { return s_->runs.size(); }

void NativeShardWriter::writer_add(const Passage& p, Bm25Analyzer& analyzer) {
  State& s = *s_;
  uint32_t doc = static_cast<uint32_t>(s.lengths.size());
  s.scratch.clear_terms();
  analyzer.analyzer_index_passage(s.scratch, p);
  uint32_t len = 0;
  for (auto it = s.scratch.termlist_begin(); it != s.scratch.termlist_end(); ++it) {
    uint32_t wdf = it.get_wdf();
    if (wdf == 0) continue;
    len += wdf;
    auto [slot, fresh] = s.ids.try_emplace(*it, static_cast<uint32_t>(s.names.size()));
    if (fresh) {
      s.names.push_back(slot->first);
      s.lists.emplace_back();
      s.last.push_back(0);
    }
    uint32_t id = slot->second;
    auto& l = s.lists[id];
    size_t before = l.capacity();
    varint_put(l, static_cast<uint64_t>(doc) + 1 - s.last[id]);
    varint_put(l, wdf);
    s.last[id] = doc + 1;
    s.buffered += l.capacity() - before;
  }
  s.lengths.push_back(len);
  s.total_length += len;
  std::string record = passage_record_encode(p);
  s.passages.put(record.data(), record.size());
  s.offsets.put_value<uint64_t>(s.passages.bytes());
  if (s.buffered >= s.flush_bytes) s.run_flush();
}

void NativeShardWriter::writer_finish() {
  State& s = *s_;
  s.passages.close();
  s.offsets.close();
  // The runs, read in term order alongside the postings still in memory.
  struct RunReader {
    std::ifstream in;
    uint32_t id = ~0u;
    std::vector<uint8_t> bytes;
    void next() {
      uint32_t head[2];
      if (!in.read(reinterpret_cast<char*>(head), sizeof head)) {
        id = ~0u;
        return;
      }
      id = head[0];
      bytes.resize(head[1]);
      in.read(reinterpret_cast<char*>(bytes.data()), head[1]);
    }
  };
  std::vector<RunReader> readers(s.runs.size());
  for (size_t r = 0; r < s.runs.size(); ++r) {
    readers[r].in.open(s.runs[r], std::ios::binary);
    if (!readers[r].in) throw Error("cannot read " + s.runs[r].string());
    readers[r].next();
  }
  BinaryOut terms(s.dir / "terms.bin"), names(s.dir / "names.bin"), blocks(s.dir / "blocks.bin"),
      postings(s.dir / "postings.bin"), bounds(s.dir / "bounds.bin");
  std::vector<Posting> list;
  std::vector<uint8_t> enc;
  std::vector<NativeBound> block_points, term_points;
  uint64_t n_blocks = 0, n_bounds = 0;
  // Writes the frontier of `points`; returns where it starts in bounds.bin and its size.
  auto put_frontier = [&](const std::vector<NativeBound>& f) {
    uint64_t first = n_bounds;
    for (const NativeBound& p : f) bounds.put_value(p), ++n_bounds;
    return std::pair<uint64_t, uint32_t>(first, static_cast<uint32_t>(f.size()));
  };
  std::vector<uint32_t> order = s.sorted_ids(true);
  for (uint32_t id : order) {
    list.clear();
    for (auto& r : readers)
      if (r.id == id) {
        run_list_decode(r.bytes, list);
        r.next();
      }
    run_list_decode(s.lists[id], list);
    std::vector<uint8_t>().swap(s.lists[id]);
    NativeTerm t{};
    t.name_offset = names.bytes();
    t.name_size = static_cast<uint32_t>(s.names[id].size());
    t.df = static_cast<uint32_t>(list.size());
    t.first_block = n_blocks;
    names.put(s.names[id].data(), s.names[id].size());
    term_points.clear();
    uint64_t base = 0;
    for (size_t b = 0; b < list.size(); b += kNativeBlock) {
      NativeBlock blk{};
      blk.offset = postings.bytes();
      blk.count = static_cast<uint16_t>(std::min<size_t>(kNativeBlock, list.size() - b));
      enc.clear();
      block_points.clear();
      uint32_t max_wdf = 0, max_len = 0;
      for (size_t i = b; i < b + blk.count; ++i) {
        max_wdf = std::max(max_wdf, list[i].wdf);
        max_len = std::max(max_len, s.lengths[list[i].doc]);
      }
      uint32_t wdf_code = native_width_code(max_wdf), len_code = native_width_code(max_len);
      enc.push_back(static_cast<uint8_t>(wdf_code | len_code << 2));
      for (size_t i = b; i < b + blk.count; ++i) {
        varint_put(enc, static_cast<uint64_t>(list[i].doc) + 1 - base);
        base = static_cast<uint64_t>(list[i].doc) + 1;
        block_points.push_back({list[i].wdf, s.lengths[list[i].doc]});
      }
      for (const NativeBound& p : block_points) fixed_put(enc, p.wdf, native_width(wdf_code));
      for (const NativeBound& p : block_points) fixed_put(enc, p.len, native_width(len_code));
      blk.last_doc = list[b + blk.count - 1].doc;
      std::vector<NativeBound> f = frontier(block_points);
      auto [first, n] = put_frontier(f);
      blk.first_bound = first;
      blk.bounds = static_cast<uint16_t>(n);
      term_points.insert(term_points.end(), f.begin(), f.end());
      postings.put(enc.data(), enc.size());
      blocks.put_value(blk);
      ++t.blocks;
      ++n_blocks;
    }
    auto [first, n] = put_frontier(frontier(term_points));
    t.first_bound = first;
    t.bounds = n;
    terms.put_value(t);
  }
  for (auto* f : {&terms, &names, &blocks, &postings, &bounds}) f->close();
  for (auto& r : readers) r.in.close();
  std::error_code ec;
  for (auto& run : s.runs) fs::remove(run, ec);
  nlohmann::json sums;
  for (auto* f : {&terms, &names, &blocks, &postings, &bounds, &s.passages, &s.offsets}) sums[f->name()] = f->checksum();
  nlohmann::json meta = {{"passages", s.lengths.size()},
                         {"total_length", s.total_length},
                         {"terms", order.size()},
                         {"blocks", n_blocks},
                         {"bounds", n_bounds},
                         {"checksums", sums}};
  meta["counts_checksum"] = native_counts_checksum(meta);
  write_json_atomic((s.dir / "shard.json").string(), meta);
}

bool native_folder_is_index(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / kNativeMetaFile, ec);
}

bool native_folder_is_shard(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "shard.json", ec);
}

nlohmann::json native_folder_meta(const std::string& dir, bool any_format) {
  fs::path path = fs::path(dir) / kNativeMetaFile;
  std::ifstream in(path);
  if (!in) throw Error(dir + " is not a steper index (cannot read " + path.string() + ")");
  nlohmann::json meta = nlohmann::json::parse(in, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("backend") || meta["backend"] != "native" ||
      !meta.contains("format") || !meta["format"].is_number_integer() || !meta.contains("shards") ||
      !meta["shards"].is_number_unsigned() || meta["shards"].get<uint64_t>() == 0)
    throw Error(path.string() + ": not the metadata of a steper index (damaged?)");
  int format = meta["format"].get<int>();
  if (format != kNativeFormat && !any_format)
    throw Error(dir + ": native index format " + std::to_string(format) +
                " is not readable by this steper (it reads format " + std::to_string(kNativeFormat) +
                "); rebuild it with steper index");
  return meta;
}

}  // namespace steper
