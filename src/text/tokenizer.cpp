// Encoding and decoding with a loaded tokenizer.json: added tokens are split out first, the rest is
// normalised, pre-tokenized and merged with BPE (cached per pre-token).
#include "text/tokenizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <queue>

#include "core/error.h"
#include "core/io.h"
#include "text/tokenizer_impl.h"

namespace steper {

// ---- construction -----------------------------------------------------------------------------

Tokenizer::Tokenizer() : impl_(new Impl()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::Tokenizer(const Tokenizer& other) : impl_(new Impl(*other.impl_)) {}
Tokenizer& Tokenizer::operator=(const Tokenizer& other) {
  if (this != &other) impl_.reset(new Impl(*other.impl_));
  return *this;
}

Tokenizer Tokenizer::from_json_string(const std::string& json_text, const std::string& where) {
  Tokenizer t;
  tokenizer_load(*t.impl_, json_text, where);
  return t;
}

static bool is_directory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// bos_token / eos_token of a tokenizer_config.json: a string or {"content": ...}.
static std::string config_token(const nlohmann::json& config, const char* key) {
  if (!config.contains(key)) return "";
  const nlohmann::json& v = config.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v.at("content").is_string()) {
    return v.at("content").get<std::string>();
  }
  return "";
}

Tokenizer Tokenizer::from_file(const std::string& tokenizer_json_path) {
  std::string path = tokenizer_json_path;
  if (is_directory(path)) path += "/tokenizer.json";
  Tokenizer t = from_json_string(read_file(path), path);
  // A tokenizer_config.json next to it names bos/eos the way transformers does.
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string config_path = dir + "/tokenizer_config.json";
  if (file_exists(config_path)) {
    nlohmann::json config = read_json(config_path);
    if (config.is_object()) {
      std::string bos = config_token(config, "bos_token"), eos = config_token(config, "eos_token");
      if (!bos.empty()) t.impl_->bos = t.token_to_id(bos);
      if (!eos.empty()) t.impl_->eos = t.token_to_id(eos);
      if (config.contains("bos_token") && config.at("bos_token").is_null()) t.impl_->bos = -1;
    }
  }
  return t;
}

// ---- added tokens -----------------------------------------------------------------------------

static bool is_word_char(uint32_t cp) {
  return cp == '_' || text::char_class(cp) == text::kLetter ||
         text::char_class(cp) == text::kNumber;
}

// The code point ending just before byte position i (0 when i == 0).
static uint32_t code_point_before(const std::string& s, size_t i) {
  if (i == 0) return 0;
  size_t j = i - 1;
  while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80 && i - j < 4) --j;
  size_t len;
  bool valid;
  uint32_t cp = text::utf8_next(s.data(), s.size(), j, &len, &valid);
  return (valid && j + len == i) ? cp : 0;
}

static uint32_t code_point_at(const std::string& s, size_t i) {
  if (i >= s.size()) return 0;
  size_t len;
  bool valid;
  return text::utf8_next(s.data(), s.size(), i, &len, &valid);
}

static void trim_space_end(std::string& s) {
  while (!s.empty()) {
    size_t j = s.size() - 1;
    while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
    if (text::char_class(code_point_at(s, j)) != text::kSpace) break;
    s.resize(j);
  }
}

static void trim_space_start(std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t len;
    bool valid;
    uint32_t cp = text::utf8_next(s.data(), s.size(), i, &len, &valid);
    if (!valid || text::char_class(cp) != text::kSpace) break;
    i += len;
  }
  s.erase(0, i);
}

// Splits s into plain text (id -1) and added tokens: at each position the longest token wins.
void Tokenizer::Impl::split_added(const std::string& s, const AddedTokenTrie& trie,
                                  std::vector<std::pair<std::string, int32_t>>& out) const {
  size_t first = out.size();
  if (trie.empty()) {
    out.emplace_back(s, -1);
    return;
  }
  size_t start = 0, i = 0, n = s.size();
  while (i < n) {
    if (!trie.first_byte[static_cast<unsigned char>(s[i])]) {
      ++i;
      continue;
    }
    int32_t node = 0, best = -1;
    size_t best_end = i;
    for (size_t j = i; j < n; ++j) {
      auto it = trie.nodes[node].next.find(static_cast<unsigned char>(s[j]));
      if (it == trie.nodes[node].next.end()) break;
      node = it->second;
      int32_t tok = trie.nodes[node].token;
      if (tok >= 0) {
        const AddedToken& a = added[tok];
        if (a.single_word &&
            (is_word_char(code_point_before(s, i)) || is_word_char(code_point_at(s, j + 1)))) {
          continue;
        }
        best = tok;
        best_end = j + 1;
      }
    }
    if (best < 0) {
      ++i;
      continue;
    }
    if (i > start) out.emplace_back(s.substr(start, i - start), -1);
    out.emplace_back(added[best].content, added[best].id);
    i = start = best_end;
  }
  if (start < n) out.emplace_back(s.substr(start), -1);
  // lstrip / rstrip swallow the whitespace beside the token.
  for (size_t k = first; k < out.size(); ++k) {
    if (out[k].second < 0) continue;
    const AddedToken& a = added[added_index_of_id[out[k].second]];
    if (a.lstrip && k > first && out[k - 1].second < 0) trim_space_end(out[k - 1].first);
    if (a.rstrip && k + 1 < out.size() && out[k + 1].second < 0) trim_space_start(out[k + 1].first);
  }
}

// ---- pre-tokenization -------------------------------------------------------------------------

static void split_step_apply(const PreTokenizeStep& step, const std::string& piece,
                             text::CharSeq& scratch, std::vector<std::string>& out) {
  if (step.pattern != text::SplitPattern::None && step.behavior == text::SplitBehavior::Isolated) {
    text::split_pattern_pieces(step.pattern, piece, scratch, out);  // matches tile the piece
    return;
  }
  std::vector<text::SplitSpan> spans;
  if (step.pattern != text::SplitPattern::None) {
    scratch.assign(piece);
    size_t i = 0;
    while (i < scratch.size()) {
      size_t len = text::split_pattern_match(step.pattern, scratch, i);
      if (len == 0) {
        size_t b = scratch.offset[i], e = scratch.offset[i + 1];
        if (!spans.empty() && !spans.back().matched) {
          spans.back().end = e;
        } else {
          spans.push_back({b, e, false});
        }
        ++i;
      } else {
        spans.push_back({scratch.offset[i], scratch.offset[i + len], true});
        i += len;
      }
    }
  } else {
    size_t pos = 0;
    while (pos < piece.size()) {
      size_t hit = piece.find(step.literal, pos);
      if (hit == std::string::npos) {
        spans.push_back({pos, piece.size(), false});
        break;
      }
      if (hit > pos) spans.push_back({pos, hit, false});
      spans.push_back({hit, hit + step.literal.size(), true});
      pos = hit + step.literal.size();
    }
  }
  text::split_spans_apply(piece, spans, step.behavior, step.invert, out);
}

void Tokenizer::Impl::pre_tokenize(const std::string& section,
                                   std::vector<std::string>& pieces) const {
  text::CharSeq scratch;
  pieces.clear();
  pieces.push_back(section);
  std::vector<std::string> next;
  for (const PreTokenizeStep& step : pre_steps) {
    next.clear();
    for (const std::string& piece : pieces) {
      if (step.kind == PreTokenizeStep::kSplit) {
        split_step_apply(step, piece, scratch, next);
      } else {
        const std::string* p = &piece;
        std::string prefixed;
        if (step.add_prefix_space && (piece.empty() || piece[0] != ' ')) {
          prefixed = " " + piece;
          p = &prefixed;
        }
        if (step.use_regex) {
          text::split_pattern_pieces(text::SplitPattern::Gpt2, *p, scratch, next);
        } else {
          next.push_back(*p);
        }
      }
    }
    pieces.swap(next);
  }
}

// ---- BPE ----------------------------------------------------------------------------------------

namespace {
struct Symbol {
  int32_t id, prev, next;
};
struct Candidate {
  int32_t rank, pos, left, right, merged;
  bool operator>(const Candidate& o) const {
    return rank != o.rank ? rank > o.rank : pos > o.pos;  // lowest rank, then leftmost
  }
};
const size_t kCacheMaxPiece = 256;
const size_t kCacheMaxEntries = 1 << 20;
}  // namespace

void Tokenizer::Impl::bpe_piece(const std::string& piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  bool cacheable = piece.size() <= kCacheMaxPiece;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.map.find(piece);
    if (it != cache.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  auto whole = ignore_merges ? bytes_ids.find(piece) : bytes_ids.end();
  if (whole != bytes_ids.end()) {
    ids.push_back(whole->second);
  } else {
    std::vector<Symbol> syms;
    syms.reserve(piece.size());
    for (unsigned char c : piece) {
      int32_t id = byte_ids[c] >= 0 ? byte_ids[c] : unk_id;
      if (id < 0) continue;  // no token for this byte and no unk token
      int32_t pos = static_cast<int32_t>(syms.size());
      syms.push_back({id, pos - 1, pos + 1});
    }
    if (!syms.empty()) syms.back().next = -1;
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    auto push_pair = [&](int32_t pos) {
      if (pos < 0 || syms[pos].next < 0) return;
      int32_t left = syms[pos].id, right = syms[syms[pos].next].id;
      auto it = merge_of.find((static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right));
      if (it != merge_of.end()) queue.push({it->second.first, pos, left, right, it->second.second});
    };
    for (int32_t p = 0; p + 1 < static_cast<int32_t>(syms.size()); ++p) push_pair(p);
    while (!queue.empty()) {
      Candidate c = queue.top();
      queue.pop();
      Symbol& s = syms[c.pos];
      if (s.id != c.left || s.next < 0 || syms[s.next].id != c.right) continue;  // stale
      int32_t gone = s.next;
      s.id = c.merged;
      s.next = syms[gone].next;
      if (s.next >= 0) syms[s.next].prev = c.pos;
      syms[gone].id = -1;
      push_pair(s.prev);
      push_pair(c.pos);
    }
    for (int32_t p = syms.empty() ? -1 : 0; p >= 0; p = syms[p].next) ids.push_back(syms[p].id);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache.mu);
    if (cache.map.size() >= kCacheMaxEntries) cache.map.clear();
    cache.map.emplace(piece, std::move(ids));
  }
}

void Tokenizer::Impl::encode_section(const std::string& section, std::vector<int32_t>& out) const {
  if (section.empty()) return;
  std::vector<std::string> pieces;
  pre_tokenize(section, pieces);
  for (const std::string& piece : pieces) bpe_piece(piece, out);
}

// ---- public API -------------------------------------------------------------------------------

std::vector<int32_t> Tokenizer::encode(const std::string& text, bool add_special) const {
  const Impl& m = *impl_;
  std::vector<int32_t> out;
  if (add_special) out = m.special_prefix;
  std::vector<std::pair<std::string, int32_t>> sections, inner;
  m.split_added(text, m.raw_trie, sections);
  for (auto& sec : sections) {
    if (sec.second >= 0) {
      out.push_back(sec.second);
      continue;
    }
    std::string s = std::move(sec.first);
    for (text::NormalForm f : m.normalizers) s = text::unicode_normalize(s, f);
    if (m.normalized_trie.empty()) {
      m.encode_section(s, out);
      continue;
    }
    inner.clear();
    m.split_added(s, m.normalized_trie, inner);
    for (const auto& part : inner) {
      if (part.second >= 0) {
        out.push_back(part.second);
      } else {
        m.encode_section(part.first, out);
      }
    }
  }
  if (add_special) out.insert(out.end(), m.special_suffix.begin(), m.special_suffix.end());
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  const Impl& m = *impl_;
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= m.id_token.size()) {
      throw Error("decode: token id " + std::to_string(id) + " is outside the vocabulary of " +
                  m.where + " (size " + std::to_string(m.id_token.size()) + ")");
    }
    if (skip_special && m.id_is_added[id] && m.added[m.added_index_of_id[id]].special) continue;
    bytes += m.id_bytes[id];
  }
  return text::utf8_lossy(bytes);
}

std::string Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->id_bytes.size()) return std::string();
  return impl_->id_bytes[id];
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->id_token.size()) return std::string();
  return impl_->id_token[id];
}

int32_t Tokenizer::token_to_id(const std::string& token) const {
  auto it = impl_->token_ids.find(token);
  return it == impl_->token_ids.end() ? -1 : it->second;
}

size_t Tokenizer::vocab_size() const { return impl_->id_token.size(); }
int32_t Tokenizer::bos_id() const { return impl_->bos; }
int32_t Tokenizer::eos_id() const { return impl_->eos; }

bool Tokenizer::is_special(int32_t id) const {
  const Impl& m = *impl_;
  if (id < 0 || static_cast<size_t>(id) >= m.id_is_added.size() || !m.id_is_added[id]) return false;
  return m.added[m.added_index_of_id[id]].special;
}

bool Tokenizer::is_added(int32_t id) const {
  const Impl& m = *impl_;
  return id >= 0 && static_cast<size_t>(id) < m.id_is_added.size() && m.id_is_added[id];
}

std::vector<std::string> Tokenizer::vocabulary() const {
  std::vector<std::string> v = impl_->id_token;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].empty()) v[i] = "[PAD" + std::to_string(i) + "]";
  }
  return v;
}

std::vector<std::string> Tokenizer::merges() const { return impl_->merge_strings; }
std::string Tokenizer::pretokenizer_kind() const { return impl_->kind; }
std::string Tokenizer::json() const { return impl_->json_text; }

}  // namespace steper
