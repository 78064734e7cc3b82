// Reading a Hugging Face tokenizer.json into Tokenizer::Impl.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/byte_level.h"
#include "text/tokenizer_impl.h"

namespace steper {

using nlohmann::json;

namespace {

const int64_t kMaxTokenId = int64_t(1) << 24;  // far above any real vocabulary

// ---- helpers ----------------------------------------------------------------------------------

struct Loader {
  Tokenizer::Impl& impl;
  const std::string& where;

  Error fail(const std::string& field, const std::string& message) const {
    return file_error(where, 0, field + ": " + message);
  }

  const json& object_at(const json& parent, const char* key, const std::string& path) const {
    if (!parent.is_object() || !parent.contains(key)) throw fail(path, "missing");
    return parent.at(key);
  }

  std::string string_at(const json& obj, const char* key, const std::string& path) const {
    if (!obj.is_object() || !obj.contains(key) || !obj.at(key).is_string()) {
      throw fail(path + "." + key, "missing or not a string");
    }
    return obj.at(key).get<std::string>();
  }

  bool bool_at(const json& obj, const char* key, bool fallback, const std::string& path) const {
    if (!obj.is_object() || !obj.contains(key) || obj.at(key).is_null()) return fallback;
    if (!obj.at(key).is_boolean()) throw fail(path + "." + key, "not a boolean");
    return obj.at(key).get<bool>();
  }

  std::string type_of(const json& obj, const std::string& path) const {
    if (!obj.is_object()) throw fail(path, "not an object");
    return string_at(obj, "type", path);
  }

  // ---- model ----------------------------------------------------------------------------------

  void load_model(const json& root) {
    const json& model = object_at(root, "model", "model");
    if (!model.is_object()) throw fail("model", "not an object");
    if (model.contains("type")) {
      std::string type = string_at(model, "type", "model");
      if (type != "BPE") {
        throw fail("model.type", "\"" + type + "\" is not supported (only byte-level BPE)");
      }
    }
    if (bool_at(model, "byte_fallback", false, "model")) {
      throw fail("model.byte_fallback", "true is not supported (only byte-level BPE)");
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (model.contains(key) && !model.at(key).is_null() &&
          !(model.at(key).is_string() && model.at(key).get<std::string>().empty())) {
        throw fail(std::string("model.") + key, "is not supported (only byte-level BPE)");
      }
    }
    impl.ignore_merges = bool_at(model, "ignore_merges", false, "model");

    const json& vocab = object_at(model, "vocab", "model.vocab");
    if (!vocab.is_object()) throw fail("model.vocab", "not an object of token -> id");
    int32_t max_id = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
          it.value().get<int64_t>() >= kMaxTokenId) {
        throw fail("model.vocab[\"" + it.key() + "\"]",
                   "id is not an integer in [0, " + std::to_string(kMaxTokenId) + ")");
      }
      max_id = std::max<int32_t>(max_id, it.value().get<int32_t>());
    }
    if (root.contains("added_tokens") && root.at("added_tokens").is_array()) {
      for (const json& t : root.at("added_tokens")) {
        if (t.is_object() && t.contains("id") && t.at("id").is_number_integer() &&
            t.at("id").get<int64_t>() >= 0 && t.at("id").get<int64_t>() < kMaxTokenId) {
          max_id = std::max<int32_t>(max_id, t.at("id").get<int32_t>());
        }
      }
    }
    size_t n = static_cast<size_t>(max_id + 1);
    impl.id_token.assign(n, std::string());
    impl.id_bytes.assign(n, std::string());
    impl.id_is_added.assign(n, 0);
    impl.added_index_of_id.assign(n, -1);
    impl.token_ids.reserve(vocab.size() * 2);
    impl.bytes_ids.reserve(vocab.size() * 2);
    std::string raw;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      int32_t id = it.value().get<int32_t>();
      impl.id_token[id] = it.key();
      impl.token_ids[it.key()] = id;
      if (text::byte_level_decode(it.key(), &raw)) {
        impl.id_bytes[id] = raw;
        impl.bytes_ids.emplace(raw, id);
      } else {
        impl.id_bytes[id] = it.key();
      }
    }
    for (int b = 0; b < 256; ++b) {
      auto it = impl.token_ids.find(text::byte_level_char(static_cast<uint8_t>(b)));
      impl.byte_ids[b] = it == impl.token_ids.end() ? -1 : it->second;
    }
    if (model.contains("unk_token") && model.at("unk_token").is_string()) {
      auto it = impl.token_ids.find(model.at("unk_token").get<std::string>());
      if (it == impl.token_ids.end()) throw fail("model.unk_token", "not in the vocabulary");
      impl.unk_id = it->second;
    }

    const json& merges = object_at(model, "merges", "model.merges");
    if (!merges.is_array()) throw fail("model.merges", "not an array");
    impl.merge_of.reserve(merges.size() * 2);
    impl.merge_strings.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      const json& m = merges[i];
      std::string path = "model.merges[" + std::to_string(i) + "]";
      std::string a, b;
      if (m.is_string()) {
        const std::string& s = m.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
          throw fail(path, "\"" + s + "\" is not two tokens separated by one space");
        }
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        a = m[0].get<std::string>();
        b = m[1].get<std::string>();
      } else {
        throw fail(path, "expected \"a b\" or [\"a\", \"b\"]");
      }
      auto ia = impl.token_ids.find(a), ib = impl.token_ids.find(b),
           ic = impl.token_ids.find(a + b);
      if (ia == impl.token_ids.end()) throw fail(path, "token \"" + a + "\" is not in model.vocab");
      if (ib == impl.token_ids.end()) throw fail(path, "token \"" + b + "\" is not in model.vocab");
      if (ic == impl.token_ids.end()) {
        throw fail(path, "merged token \"" + a + b + "\" is not in model.vocab");
      }
      uint64_t key = (static_cast<uint64_t>(ia->second) << 32) | static_cast<uint32_t>(ib->second);
      impl.merge_of.emplace(key, std::make_pair(static_cast<int32_t>(i), ic->second));
      impl.merge_strings.push_back(a + " " + b);
    }
  }

  // ---- added tokens -----------------------------------------------------------------------------

  void load_added_tokens(const json& root) {
    impl.raw_trie.clear();
    impl.normalized_trie.clear();
    if (!root.contains("added_tokens") || root.at("added_tokens").is_null()) return;
    const json& list = root.at("added_tokens");
    if (!list.is_array()) throw fail("added_tokens", "not an array");
    for (size_t i = 0; i < list.size(); ++i) {
      const json& t = list[i];
      std::string path = "added_tokens[" + std::to_string(i) + "]";
      AddedToken a;
      a.content = string_at(t, "content", path);
      if (!t.contains("id") || !t.at("id").is_number_integer() || t.at("id").get<int64_t>() < 0 ||
          t.at("id").get<int64_t>() >= kMaxTokenId) {
        throw fail(path + ".id",
                   "missing or not an integer in [0, " + std::to_string(kMaxTokenId) + ")");
      }
      if (a.content.empty()) throw fail(path + ".content", "empty");
      a.id = t.at("id").get<int32_t>();
      a.special = bool_at(t, "special", false, path);
      a.lstrip = bool_at(t, "lstrip", false, path);
      a.rstrip = bool_at(t, "rstrip", false, path);
      a.single_word = bool_at(t, "single_word", false, path);
      a.normalized = bool_at(t, "normalized", !a.special, path);
      int32_t index = static_cast<int32_t>(impl.added.size());
      impl.added.push_back(a);
      impl.id_token[a.id] = a.content;
      impl.id_bytes[a.id] = a.content;
      impl.id_is_added[a.id] = 1;
      impl.added_index_of_id[a.id] = index;
      impl.token_ids[a.content] = a.id;
    }
    for (size_t i = 0; i < impl.added.size(); ++i) {
      const AddedToken& a = impl.added[i];
      bool after = a.normalized && !impl.normalizers.empty();
      (after ? impl.normalized_trie : impl.raw_trie).insert(a.content, static_cast<int32_t>(i));
    }
  }

  // ---- normalizer -------------------------------------------------------------------------------

  void load_normalizer(const json& n, const std::string& path) {
    if (n.is_null()) return;
    std::string type = type_of(n, path);
    if (type == "Sequence") {
      const json& list = object_at(n, "normalizers", path + ".normalizers");
      if (!list.is_array()) throw fail(path + ".normalizers", "not an array");
      for (size_t i = 0; i < list.size(); ++i) {
        load_normalizer(list[i], path + ".normalizers[" + std::to_string(i) + "]");
      }
    } else if (type == "NFC") {
      impl.normalizers.push_back(text::NormalForm::NFC);
    } else if (type == "NFD") {
      impl.normalizers.push_back(text::NormalForm::NFD);
    } else if (type == "NFKC") {
      impl.normalizers.push_back(text::NormalForm::NFKC);
    } else if (type == "NFKD") {
      impl.normalizers.push_back(text::NormalForm::NFKD);
    } else if (type == "Lowercase") {
      impl.normalizers.push_back(text::NormalForm::Lowercase);
    } else {
      throw fail(path + ".type", "\"" + type +
                                     "\" is not supported (null, NFC, NFD, NFKC, NFKD, "
                                     "Lowercase or a Sequence of them)");
    }
  }

  // ---- pre-tokenizer ----------------------------------------------------------------------------

  void load_pre_tokenizer(const json& p, const std::string& path) {
    if (p.is_null()) return;
    std::string type = type_of(p, path);
    if (type == "Sequence") {
      const json& list = object_at(p, "pretokenizers", path + ".pretokenizers");
      if (!list.is_array()) throw fail(path + ".pretokenizers", "not an array");
      for (size_t i = 0; i < list.size(); ++i) {
        load_pre_tokenizer(list[i], path + ".pretokenizers[" + std::to_string(i) + "]");
      }
      return;
    }
    PreTokenizeStep step;
    if (type == "ByteLevel") {
      step.kind = PreTokenizeStep::kByteLevel;
      step.add_prefix_space = bool_at(p, "add_prefix_space", true, path);
      step.use_regex = bool_at(p, "use_regex", true, path);
      if (step.use_regex && impl.kind.empty()) impl.kind = "gpt2";
    } else if (type == "Split") {
      for (const auto& s : impl.pre_steps) {
        if (s.kind == PreTokenizeStep::kByteLevel) {
          throw fail(path, "a Split after ByteLevel is not supported");
        }
      }
      step.kind = PreTokenizeStep::kSplit;
      const json& pattern = object_at(p, "pattern", path + ".pattern");
      if (pattern.is_object() && pattern.contains("Regex") && pattern.at("Regex").is_string()) {
        std::string regex = pattern.at("Regex").get<std::string>();
        step.pattern = text::split_pattern_from_regex(regex);
        if (step.pattern == text::SplitPattern::None) {
          throw fail(path + ".pattern.Regex",
                     "unsupported split pattern \"" + regex +
                         "\" (known: the GPT-2, Llama-3 and Qwen2 patterns)");
        }
        if (impl.kind.empty() || impl.kind == "gpt2")
          impl.kind = text::split_pattern_kind(step.pattern);
      } else if (pattern.is_object() && pattern.contains("String") &&
                 pattern.at("String").is_string()) {
        step.literal = pattern.at("String").get<std::string>();
        if (step.literal.empty()) throw fail(path + ".pattern.String", "empty");
      } else {
        throw fail(path + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
      }
      std::string behavior = p.contains("behavior") ? string_at(p, "behavior", path) : "Isolated";
      if (behavior == "Removed") {
        step.behavior = text::SplitBehavior::Removed;
      } else if (behavior == "Isolated") {
        step.behavior = text::SplitBehavior::Isolated;
      } else if (behavior == "MergedWithPrevious") {
        step.behavior = text::SplitBehavior::MergedWithPrevious;
      } else if (behavior == "MergedWithNext") {
        step.behavior = text::SplitBehavior::MergedWithNext;
      } else if (behavior == "Contiguous") {
        step.behavior = text::SplitBehavior::Contiguous;
      } else {
        throw fail(path + ".behavior", "\"" + behavior + "\" is not a Split behavior");
      }
      step.invert = bool_at(p, "invert", false, path);
    } else {
      throw fail(path + ".type",
                 "\"" + type + "\" is not supported (ByteLevel, Split or Sequence)");
    }
    impl.pre_steps.push_back(step);
  }

  // ---- post-processor ---------------------------------------------------------------------------

  int32_t special_id(const json& specials, const std::string& name, const std::string& path) {
    if (specials.is_object() && specials.contains(name)) {
      const json& entry = specials.at(name);
      if (entry.contains("ids") && entry.at("ids").is_array() && entry.at("ids").size() == 1 &&
          entry.at("ids")[0].is_number_integer()) {
        return entry.at("ids")[0].get<int32_t>();
      }
    }
    auto it = impl.token_ids.find(name);
    if (it == impl.token_ids.end()) throw fail(path, "special token \"" + name + "\" is unknown");
    return it->second;
  }

  void load_post_processor(const json& p, const std::string& path) {
    if (p.is_null()) return;
    std::string type = type_of(p, path);
    if (type == "ByteLevel") return;  // only adjusts offsets
    if (type == "Sequence") {
      const json& list = object_at(p, "processors", path + ".processors");
      if (!list.is_array()) throw fail(path + ".processors", "not an array");
      for (size_t i = 0; i < list.size(); ++i) {
        load_post_processor(list[i], path + ".processors[" + std::to_string(i) + "]");
      }
      return;
    }
    if (type == "TemplateProcessing") {
      const json& single = object_at(p, "single", path + ".single");
      if (!single.is_array()) throw fail(path + ".single", "not an array");
      const json specials = p.contains("special_tokens") ? p.at("special_tokens") : json::object();
      bool seen_sequence = false;
      std::vector<int32_t> prefix, suffix;
      for (size_t i = 0; i < single.size(); ++i) {
        const json& item = single[i];
        std::string ipath = path + ".single[" + std::to_string(i) + "]";
        if (item.is_object() && item.contains("Sequence")) {
          seen_sequence = true;
        } else if (item.is_object() && item.contains("SpecialToken")) {
          std::string name = string_at(item.at("SpecialToken"), "id", ipath + ".SpecialToken");
          (seen_sequence ? suffix : prefix).push_back(special_id(specials, name, ipath));
        } else {
          throw fail(ipath, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        }
      }
      impl.special_prefix = prefix;
      impl.special_suffix = suffix;
      return;
    }
    if (type == "RobertaProcessing" || type == "BertProcessing") {
      for (const char* key : {"cls", "sep"}) {
        const json& v = object_at(p, key, path + "." + key);
        if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer()) {
          throw fail(path + "." + key, "expected [token, id]");
        }
      }
      impl.special_prefix = {p.at("cls")[1].get<int32_t>()};
      impl.special_suffix = {p.at("sep")[1].get<int32_t>()};
      return;
    }
    throw fail(path + ".type", "\"" + type +
                                   "\" is not supported (ByteLevel, TemplateProcessing, "
                                   "RobertaProcessing, BertProcessing or a Sequence of them)");
  }

  // ---- decoder ----------------------------------------------------------------------------------

  void check_decoder(const json& d, const std::string& path) {
    if (d.is_null()) throw fail(path, "null is not supported (expected ByteLevel)");
    std::string type = type_of(d, path);
    if (type == "ByteLevel") return;
    if (type == "Sequence") {
      const json& list = object_at(d, "decoders", path + ".decoders");
      if (!list.is_array() || list.empty()) throw fail(path + ".decoders", "not a non-empty array");
      for (size_t i = 0; i < list.size(); ++i) {
        check_decoder(list[i], path + ".decoders[" + std::to_string(i) + "]");
      }
      return;
    }
    throw fail(path + ".type", "\"" + type + "\" is not supported (expected ByteLevel)");
  }

  // ---- special ids ------------------------------------------------------------------------------

  int32_t added_id_named(std::initializer_list<const char*> names) const {
    for (const char* name : names) {
      auto it = impl.token_ids.find(name);
      if (it != impl.token_ids.end() &&
          it->second < static_cast<int32_t>(impl.id_is_added.size()) &&
          impl.id_is_added[it->second]) {
        return it->second;
      }
    }
    return -1;
  }

  void choose_special_ids() {
    impl.bos = !impl.special_prefix.empty() ? impl.special_prefix.front()
                                            : added_id_named({"<|begin_of_text|>", "<s>", "<bos>"});
    impl.eos = !impl.special_suffix.empty()
                   ? impl.special_suffix.back()
                   : added_id_named({"<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>"});
  }
};

}  // namespace

// ---- entry point ------------------------------------------------------------------------------

void AddedTokenTrie::clear() {
  nodes.assign(1, Node());
  std::fill(first_byte, first_byte + 256, false);
}

void AddedTokenTrie::insert(const std::string& s, int32_t token_index) {
  if (nodes.empty()) nodes.emplace_back();
  int32_t node = 0;
  first_byte[static_cast<unsigned char>(s[0])] = true;
  for (unsigned char c : s) {
    auto it = nodes[node].next.find(c);
    if (it == nodes[node].next.end()) {
      int32_t child = static_cast<int32_t>(nodes.size());
      nodes[node].next[c] = child;
      nodes.emplace_back();
      node = child;
    } else {
      node = it->second;
    }
  }
  nodes[node].token = token_index;
}

void tokenizer_load(Tokenizer::Impl& impl, const std::string& json_text, const std::string& where) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw file_error(where, 0, std::string("not valid JSON: ") + e.what());
  }
  impl.where = where;
  Loader loader{impl, where};
  if (!root.is_object()) throw loader.fail("(top level)", "not a JSON object");
  loader.load_model(root);
  loader.load_normalizer(root.contains("normalizer") ? root.at("normalizer") : json(),
                         "normalizer");
  loader.load_added_tokens(root);
  loader.load_pre_tokenizer(root.contains("pre_tokenizer") ? root.at("pre_tokenizer") : json(),
                            "pre_tokenizer");
  bool byte_level = false;
  for (const auto& s : impl.pre_steps)
    byte_level = byte_level || s.kind == PreTokenizeStep::kByteLevel;
  if (!byte_level) {
    throw loader.fail("pre_tokenizer",
                      "a ByteLevel pre-tokenizer is required (only byte-level BPE)");
  }
  loader.load_post_processor(root.contains("post_processor") ? root.at("post_processor") : json(),
                             "post_processor");
  loader.check_decoder(root.contains("decoder") ? root.at("decoder") : json(), "decoder");
  loader.choose_special_ids();
  impl.json_text = json_text;
}

}  // namespace steper
