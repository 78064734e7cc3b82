// Searching native indexes: every shard of every folder memory-mapped, one query at a time per thread,
// MaxScore with block-max bounds over the shards in turn into one top-k, ranked as Xapian ranks a
// database of the same passages (score, then the earlier passage; bm25_scoring.h).
#include "retrieval/native_search.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "retrieval/bm25_analyzer.h"
#include "retrieval/bm25_folder.h"
#include "retrieval/bm25_record.h"
#include "retrieval/bm25_scoring.h"
#include "retrieval/native_index.h"
#include "retrieval/query_pool.h"
#include "retrieval/result_dedup.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

// ---- files

class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const fs::path& path, const std::string& owner) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(owner + " is damaged (" + path.filename().string() + " is missing); rebuild it with steper index");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw Error(owner + ": cannot read " + path.string());
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        throw Error(owner + ": cannot map " + path.string());
      }
      data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
  }
  MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  MappedFile& operator=(MappedFile&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  template <class T>
  const T* as() const {
    return reinterpret_cast<const T*>(data_);
  }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// ---- one shard

struct Shard {
  std::string name;  // "index DIR: shard PATH", for errors
  MappedFile terms_f, names_f, blocks_f, postings_f, bounds_f, passages_f, offsets_f;
  size_t n_terms = 0, n_blocks = 0, n_bounds = 0;
  uint32_t docs = 0;
  uint64_t total_length = 0;

  [[noreturn]] void damaged(const std::string& what) const {
    throw Error(name + " is damaged (" + what + "); rebuild it with steper index");
  }
  const NativeTerm* terms() const { return terms_f.as<NativeTerm>(); }
  const NativeBlock* blocks() const { return blocks_f.as<NativeBlock>(); }
  // The largest BM25 part a frontier of (wdf, length) pairs allows.
  double bound(uint64_t first, uint32_t count, double termweight, double lf) const {
    if (count == 0 || first > n_bounds || count > n_bounds - first) damaged("a score bound");
    const NativeBound* p = bounds_f.as<NativeBound>() + first;
    double best = 0;
    for (uint32_t j = 0; j < count; ++j) best = std::max(best, bm25_part(termweight, lf, p[j].wdf, p[j].len));
    return best;
  }

  std::string_view term_name(const NativeTerm& t) const {
    if (t.name_offset > names_f.size() || t.name_size > names_f.size() - t.name_offset) damaged("a term name");
    return {names_f.as<char>() + t.name_offset, t.name_size};
  }
  // The term's entry, or null when the shard does not hold it.
  const NativeTerm* term_find(std::string_view term) const {
    const NativeTerm* t = terms();
    size_t lo = 0, hi = n_terms;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (term_name(t[mid]) < term) lo = mid + 1;
      else hi = mid;
    }
    if (lo == n_terms || term_name(t[lo]) != term) return nullptr;
    const NativeTerm& e = t[lo];
    if (e.df == 0 || e.df > docs || e.first_block > n_blocks || e.blocks > n_blocks - e.first_block ||
        e.blocks != (e.df + kNativeBlock - 1) / kNativeBlock)
      damaged("the entry of a term");
    return &e;
  }
  Passage passage(uint32_t doc) const {
    const uint64_t* off = offsets_f.as<uint64_t>();
    if (off[doc] > off[doc + 1] || off[doc + 1] > passages_f.size()) damaged("the offset of passage " + std::to_string(doc));
    std::string data(passages_f.as<char>() + off[doc], off[doc + 1] - off[doc]);
    std::optional<Passage> p = passage_record_decode(data);
    if (!p) damaged("the record of passage " + std::to_string(doc));
    return std::move(*p);
  }
};

uint64_t json_count(const nlohmann::json& j, const char* key, const std::string& file) {
  if (!j.contains(key) || !j[key].is_number_unsigned()) throw Error(file + ": no count \"" + key + "\" (damaged?)");
  return j[key].get<uint64_t>();
}

// `name` names the shard in errors.
Shard shard_open(const std::string& name, const fs::path& dir) {
  Shard s;
  s.name = name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(s.name + " is missing");
  fs::path meta_path = dir / "shard.json";
  std::ifstream in(meta_path);
  nlohmann::json meta = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
  if (!meta.is_object()) s.damaged("shard.json is missing or unreadable");
  uint64_t docs = json_count(meta, "passages", meta_path.string());
  s.total_length = json_count(meta, "total_length", meta_path.string());
  s.n_terms = json_count(meta, "terms", meta_path.string());
  s.n_blocks = json_count(meta, "blocks", meta_path.string());
  s.n_bounds = json_count(meta, "bounds", meta_path.string());
  if (docs >= std::numeric_limits<uint32_t>::max()) s.damaged("shard.json: too many passages");
  s.docs = static_cast<uint32_t>(docs);
  if (!meta.contains("checksums") || !meta["checksums"].is_object()) s.damaged("shard.json has no checksums");
  if (!meta.contains("counts_checksum") || meta["counts_checksum"] != native_counts_checksum(meta))
    s.damaged("shard.json's counts do not match their checksum");
  // Maps one file of the shard and checks it against the checksum shard.json records for it.
  auto map = [&](const char* file) {
    MappedFile f(dir / file, s.name);
    const nlohmann::json& want = meta["checksums"];
    NativeChecksum sum;
    sum.checksum_add(f.template as<uint8_t>(), f.size());
    if (!want.contains(file) || !want[file].is_string() || want[file] != native_checksum_hex(sum.checksum_value()))
      s.damaged(std::string(file) + " does not match its checksum in shard.json");
    return f;
  };
  s.terms_f = map("terms.bin");
  s.names_f = map("names.bin");
  s.blocks_f = map("blocks.bin");
  s.postings_f = map("postings.bin");
  s.bounds_f = map("bounds.bin");
  s.passages_f = map("passages.bin");
  s.offsets_f = map("passages.idx");
  auto expect = [&](const MappedFile& f, uint64_t bytes, const char* file) {
    if (f.size() != bytes)
      s.damaged(std::string(file) + " holds " + std::to_string(f.size()) + " bytes, shard.json implies " +
                std::to_string(bytes));
  };
  expect(s.terms_f, s.n_terms * sizeof(NativeTerm), "terms.bin");
  expect(s.blocks_f, s.n_blocks * sizeof(NativeBlock), "blocks.bin");
  expect(s.bounds_f, s.n_bounds * sizeof(NativeBound), "bounds.bin");
  expect(s.offsets_f, (docs + 1) * sizeof(uint64_t), "passages.idx");
  if (s.offsets_f.as<uint64_t>()[docs] != s.passages_f.size()) s.damaged("passages.bin does not end where passages.idx says");
  return s;
}

// ---- a term's posting list in one shard

struct Cursor {
  const Shard* sh = nullptr;
  const NativeBlock* blk = nullptr;  // the term's blocks
  uint32_t nb = 0;
  uint32_t b = 0;             // the current block
  uint32_t decoded = ~0u;     // the block in docs / wdfs
  uint32_t target = 0;        // undecoded: the first doc it may stand at
  uint32_t bound_of = ~0u;    // the block block_ub is the bound of
  double block_ub = 0;
  uint32_t i = 0, n = 0;
  bool end = false;
  size_t qi = 0;              // the term's place in the query
  double tw = 0, ub = 0;      // termweight, the term's score bound
  uint32_t docs[kNativeBlock];
  const uint8_t *wdf_at = nullptr, *len_at = nullptr;  // the decoded block's wdfs and lengths
  uint32_t wdf_width = 1, len_width = 1;

  uint32_t doc() const { return docs[i]; }

  void decode() {
    const NativeBlock& k = blk[b];
    size_t size = sh->postings_f.size();
    if (k.count == 0 || k.count > kNativeBlock || k.offset >= size) sh->damaged("a posting block");
    // A block takes at most 1 + 10 + 8 bytes a posting: that far from the end, no byte needs a bounds check.
    bool ok = size - k.offset >= size_t{kNativeBlock} * 19 + 1 ? decode_block<false>(k, size) : decode_block<true>(k, size);
    if (!ok) sh->damaged("a posting block");
    n = k.count;
    i = 0;
    decoded = b;
  }
  // Decodes the block's documents; its wdfs and lengths are read in place when a posting is scored.
  template <bool checked>
  bool decode_block(const NativeBlock& k, size_t size) {
    const uint8_t* p = sh->postings_f.as<uint8_t>() + k.offset;
    const uint8_t* end = sh->postings_f.as<uint8_t>() + size;
    uint8_t widths = *p++;
    wdf_width = native_width(widths & 3);
    len_width = native_width((widths >> 2) & 3);
    bool bad = widths > 0xf || wdf_width == 0 || len_width == 0;
    auto varint = [&]() -> uint64_t {
      uint64_t v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (checked && p >= end) {
          bad = true;
          return 1;
        }
        uint8_t c = *p++;
        v |= static_cast<uint64_t>(c & 0x7f) << shift;
        if (!(c & 0x80)) return v;
      }
      bad = true;
      return 1;
    };
    uint64_t base = b == 0 ? 0 : static_cast<uint64_t>(blk[b - 1].last_doc) + 1;
    for (uint32_t j = 0; j < k.count; ++j) {
      uint64_t v = (!checked || p < end) && *p < 0x80 ? *p++ : varint();
      base += v;
      bad |= v == 0;
      docs[j] = static_cast<uint32_t>(base - 1);
    }
    wdf_at = p;
    len_at = p + size_t{k.count} * wdf_width;
    if (checked && (len_at > end || size_t(end - len_at) < size_t{k.count} * len_width)) bad = true;
    return !bad && base <= sh->docs && docs[k.count - 1] == k.last_doc;
  }
  // The current posting's wdf and passage length (a damaged pair is an error).
  uint32_t wdf() const { return native_fixed(wdf_at, wdf_width, i); }
  uint32_t len() const { return native_fixed(len_at, len_width, i); }
  void check_posting() const {
    uint32_t w = wdf();
    if (w == 0 || len() < w) sh->damaged("a posting's wdf or length");
  }
  // A cursor is at block b, decoded or not: undecoded, it stands for its first posting >= target
  // there (blocks are decoded only when a passage in them may score).
  bool ready() const { return decoded == b; }
  // No posting of the cursor before this one: its current doc when decoded.
  uint32_t lower() const {
    if (ready()) return docs[i];
    uint32_t first = b == 0 ? 0 : blk[b - 1].last_doc + 1;
    return std::max(first, target);
  }
  void ensure() {
    if (ready()) return;
    decode();
    while (docs[i] < target) ++i;
  }
  void start() {
    b = 0;
    target = 0;
    decoded = ~0u;
    end = nb == 0;
  }
  void next() {  // a decoded cursor's next posting
    if (++i < n) return;
    if (++b >= nb) end = true;
    target = 0;
  }
  // Moves to the first posting >= d, without decoding a block; false at the end.
  bool shallow(uint32_t d) {
    if (end) return false;
    if (ready() && blk[b].last_doc >= d) {
      while (docs[i] < d) ++i;
      return true;
    }
    while (b < nb && blk[b].last_doc < d) ++b;
    if (b >= nb) {
      end = true;
      return false;
    }
    target = std::max(target, d);
    if (ready()) {  // still the decoded block (d was within it)
      while (docs[i] < d) ++i;
    }
    return true;
  }
  void seek(uint32_t d) {
    if (shallow(d)) ensure();
  }
  // The current block's score bound (computed once a block).
  double block_bound(double lf) {
    if (bound_of != b) {
      bound_of = b;
      block_ub = sh->bound(blk[b].first_bound, blk[b].bounds, tw, lf);
    }
    return block_ub;
  }
};

// ---- the top k

struct Hit {
  double score;
  uint64_t key;  // the passage's place in the whole index (ties: the earlier first)
  uint32_t shard, doc;
};
bool hit_better(const Hit& a, const Hit& b) { return a.score > b.score || (a.score == b.score && a.key < b.key); }

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  // Scores below this cannot enter (a relative slack keeps rounding in partial sums from pruning a tie).
  double top_floor() const {
    return heap_.size() < k_ ? -std::numeric_limits<double>::infinity() : heap_.front().score * (1 - 1e-12);
  }
  // A passage already held is not offered again (a shard is searched in two passes).
  void top_offer(const Hit& h) {
    for (const Hit& held : heap_)
      if (held.key == h.key) return;
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), hit_better);
    } else if (hit_better(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), hit_better);
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), hit_better);
    }
  }
  std::vector<Hit> top_sorted() {
    std::sort(heap_.begin(), heap_.end(), hit_better);
    return heap_;
  }

 private:
  size_t k_;
  std::vector<Hit> heap_;  // the worst first
};

// The next candidate passage of the essential lists cur[e, m): the lists that may hold the least
// passage are decoded until those that hold it are decoded. kNone when they are done.
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
uint32_t candidate_next(std::vector<Cursor>& cur, size_t e) {
  for (;;) {
    uint32_t d = kNone;
    for (size_t j = e; j < cur.size(); ++j)
      if (!cur[j].end) d = std::min(d, cur[j].lower());
    bool decoded = false;
    for (size_t j = e; j < cur.size(); ++j)
      if (!cur[j].end && !cur[j].ready() && cur[j].lower() == d) cur[j].ensure(), decoded = true;
    if (!decoded) return d;
  }
}

// Scores passage d: the essential lists that hold it (moving them past it), then the others in
// falling bound while it may still reach the floor `fl`. Its parts go to `parts` by query term; false
// when it cannot reach the floor.
bool candidate_score(std::vector<Cursor>& cur, const std::vector<double>& prefix, size_t e, uint32_t d, double lf,
                     double fl, std::vector<double>& parts) {
  auto holds = [&](const Cursor& c) { return !c.end && c.ready() && c.doc() == d; };
  // The passage's bound from the blocks the essential lists hold it in: below the floor, no scoring.
  double bound = e ? prefix[e - 1] : 0.0;
  uint32_t len = 0;  // the passage's length, from a posting of it
  for (size_t j = e; j < cur.size(); ++j)
    if (holds(cur[j])) bound += cur[j].block_bound(lf), len = cur[j].len();
  if (bound < fl) {
    for (size_t j = e; j < cur.size(); ++j)
      if (holds(cur[j])) cur[j].next();
    return false;
  }
  double norm = bm25_length_norm(lf, len), score = 0;
  std::fill(parts.begin(), parts.end(), 0.0);
  for (size_t j = e; j < cur.size(); ++j) {
    Cursor& c = cur[j];
    if (!holds(c)) continue;
    c.check_posting();
    score += parts[c.qi] = bm25_part_normed(c.tw, norm, c.wdf());
    c.next();
  }
  for (size_t j = e; j-- > 0;) {
    Cursor& c = cur[j];
    double rest = j ? prefix[j - 1] : 0.0;
    if (score + c.ub + rest < fl) return false;
    if (!c.shallow(d)) continue;
    if (score + c.block_bound(lf) + rest < fl) return false;
    c.seek(d);
    if (holds(c)) {
      c.check_posting();
      score += parts[c.qi] = bm25_part_normed(c.tw, norm, c.wdf());
    }
  }
  return score >= fl;
}

// MaxScore over one shard (cursors sorted by bound, `prefix` their running sums): the terms whose
// bounds together cannot reach the k-th score are only probed for passages the others found. The
// first `min_probed` terms are only probed however low the k-th score is.
void shard_pass(std::vector<Cursor>& cur, const std::vector<double>& prefix, size_t min_probed, double lf,
                uint32_t shard_at, uint64_t n_shards, std::vector<double>& parts, TopK& top) {
  size_t m = cur.size();
  for (auto& c : cur) c.start();
  auto essential_from = [&] {
    double fl = top.top_floor();
    size_t e = min_probed;
    while (e < m && prefix[e] < fl) ++e;
    return e;
  };
  for (size_t e = essential_from(); e < m; e = std::max(e, essential_from())) {
    // The region [d, r] up to the first end of an essential list's current block: each essential
    // list's postings there lie in that block, so the blocks' bounds bound every passage in it.
    uint32_t d = kNone, r = kNone;
    double fl = top.top_floor(), region = e ? prefix[e - 1] : 0.0;
    for (size_t j = e; j < m; ++j) {
      Cursor& c = cur[j];
      if (c.end) continue;
      d = std::min(d, c.lower());
      r = std::min(r, c.blk[c.b].last_doc);
      region += c.block_bound(lf);
    }
    if (d == kNone) break;
    if (region < fl) {  // nothing there can enter the top k: skip it without decoding a block
      for (size_t j = e; j < m; ++j) cur[j].shallow(r + 1);
      continue;
    }
    d = candidate_next(cur, e);
    if (!candidate_score(cur, prefix, e, d, lf, fl, parts)) continue;
    double canonical = 0;  // summed in query order, so passages with the same parts tie exactly
    for (double p : parts) canonical += p;
    top.top_offer({canonical, static_cast<uint64_t>(d) * n_shards + shard_at, shard_at, d});
  }
}

// One shard into the top k. Scanned in document order, MaxScore prunes little until the k-th score
// is high, and the first passages met are seldom good: a first pass over the passages of the two
// rarest terms (probing the others) finds good passages at little cost, so the full pass starts with
// a high k-th score and leaves the common terms to probing from its first passage.
void shard_search(std::vector<Cursor>& cur, double lf, uint32_t shard_at, uint64_t n_shards, size_t n_query_terms,
                  TopK& top) {
  std::sort(cur.begin(), cur.end(), [](const Cursor& a, const Cursor& b) { return a.ub < b.ub; });
  size_t m = cur.size();
  std::vector<double> prefix(m), parts(n_query_terms, 0.0);
  for (size_t j = 0; j < m; ++j) prefix[j] = cur[j].ub + (j ? prefix[j - 1] : 0.0);
  if (m >= 3) shard_pass(cur, prefix, m - 2, lf, shard_at, n_shards, parts, top);
  shard_pass(cur, prefix, 0, lf, shard_at, n_shards, parts, top);
}

// ---- the retriever

class NativeRetriever : public Retriever {
 public:
  NativeRetriever(const std::vector<std::string>& dirs, int threads)
      : threads_(threads) {
    for (const auto& dir : dirs) {
      if (!native_folder_is_index(dir)) {  // one shard of an index, listed on its own
        shards_.push_back(shard_open("index " + dir, dir));
        stats_.passages += shards_.back().docs;
        stats_.total_length += shards_.back().total_length;
        continue;
      }
      nlohmann::json meta = native_folder_meta(dir);
      uint64_t n = meta["shards"].get<uint64_t>(), passages = 0;
      for (uint64_t s = 0; s < n; ++s) {
        fs::path path = fs::path(dir) / index_shard_name(s);
        shards_.push_back(shard_open("index " + dir + ": shard " + path.string(), path));
        passages += shards_.back().docs;
        stats_.passages += shards_.back().docs;
        stats_.total_length += shards_.back().total_length;
      }
      if (meta.contains("passages") && meta["passages"] != passages)
        throw Error("index " + dir + " is damaged (its shards hold " + std::to_string(passages) + " passages, " +
                    kNativeMetaFile + " says " + meta["passages"].dump() + "); rebuild it with steper index");
    }
  }

  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    if (k < 1) throw Error("k (passages per query) must be at least 1, got " + std::to_string(k));
    std::vector<std::vector<ScoredPassage>> results(queries.size());
    query_pool_run(queries.size(), threads_, [&]() -> std::function<void(size_t)> {
      auto analyzer = std::make_shared<Bm25Analyzer>();
      return [&, analyzer](size_t i) {
        auto terms = analyzer->analyzer_query_terms(queries[i]);
        if (terms.empty()) return;
        results[i] = top_k_distinct(k, [&](size_t want) { return ranked(terms, want); });
      };
    });
    return results;
  }

  size_t size() const override { return stats_.passages; }

 private:
  std::vector<ScoredPassage> ranked(const std::vector<std::pair<std::string, Xapian::termcount>>& terms,
                                    size_t want) const {
    double lf = stats_.length_factor();
    // Each term's entry in each shard, and its weight from its frequency over all of them.
    std::vector<std::vector<const NativeTerm*>> entry(shards_.size(), std::vector<const NativeTerm*>(terms.size()));
    std::vector<uint64_t> df(terms.size(), 0);
    for (size_t s = 0; s < shards_.size(); ++s)
      for (size_t q = 0; q < terms.size(); ++q)
        if ((entry[s][q] = shards_[s].term_find(terms[q].first))) df[q] += entry[s][q]->df;
    TopK top(want);
    std::vector<Cursor> cur;
    for (size_t s = 0; s < shards_.size(); ++s) {
      cur.clear();
      for (size_t q = 0; q < terms.size(); ++q) {
        const NativeTerm* t = entry[s][q];
        if (!t) continue;
        Cursor c;
        c.sh = &shards_[s];
        c.blk = shards_[s].blocks() + t->first_block;
        c.nb = t->blocks;
        c.qi = q;
        c.tw = bm25_termweight(stats_.passages, df[q], terms[q].second);
        c.ub = shards_[s].bound(t->first_bound, t->bounds, c.tw, lf);
        cur.push_back(c);
      }
      shard_search(cur, lf, static_cast<uint32_t>(s), shards_.size(), terms.size(), top);
    }
    std::vector<ScoredPassage> out;
    for (const Hit& h : top.top_sorted()) out.push_back({shards_[h.shard].passage(h.doc), h.score});
    return out;
  }

  int threads_;
  std::vector<Shard> shards_;
  Bm25Stats stats_;
};

}  // namespace

std::unique_ptr<Retriever> native_open(const std::vector<std::string>& dirs, int threads) {
  return std::make_unique<NativeRetriever>(dirs, threads);
}

}  // namespace steper
