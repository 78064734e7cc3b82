#include "gguf/gguf_vocab.h"

#include <map>

#include "core/error.h"
#include "core/io.h"

namespace steper {

// ---- pre-tokenizer patterns llama.cpp knows (tokenizer.json "Split" regexes)

namespace {

const char* kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* kQwen2Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// A node's "type" ("" when the node is no object or has none); a type that is not a string throws naming where.
std::string type_of(const nlohmann::json& node, const std::string& where) {
  return node.is_object() ? json_text_or(node, "type", where, "") : "";
}

std::vector<nlohmann::json> flatten_sequence(const nlohmann::json& node, const char* list_field,
                                             const std::string& where) {
  std::vector<nlohmann::json> out;
  if (node.is_null()) return out;
  if (type_of(node, where) == "Sequence" && node.contains(list_field) && node[list_field].is_array()) {
    for (const auto& child : node[list_field]) {
      std::vector<nlohmann::json> sub = flatten_sequence(child, list_field, where);
      out.insert(out.end(), sub.begin(), sub.end());
    }
  } else {
    out.push_back(node);
  }
  return out;
}

bool json_bool(const nlohmann::json& obj, const char* field, bool fallback) {
  if (!obj.is_object() || !obj.contains(field) || !obj[field].is_boolean()) return fallback;
  return obj[field].get<bool>();
}

// "bos_token": "<s>" or {"content": "<s>", ...}
std::string special_token_text(const nlohmann::json& cfg, const char* field) {
  if (!cfg.is_object() || !cfg.contains(field)) return "";
  const nlohmann::json& v = cfg[field];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

}  // namespace

bool gguf_token_looks_special(const std::string& t) {
  auto starts = [&](const std::string& p) { return t.size() >= p.size() && t.compare(0, p.size(), p) == 0; };
  auto ends = [&](const std::string& s) { return t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0; };
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (t.size() >= 4 && starts("<|") && ends("|>")) return true;
  if (starts("<\xEF\xBD\x9C") && ends("\xEF\xBD\x9C>")) return true;  // fullwidth bars: <｜...｜>
  if (starts("<unused") && ends(">")) return true;
  return false;
}

std::string gguf_pre_tokenizer_name(const nlohmann::json& tok, const std::string& where) {
  const nlohmann::json pre = tok.contains("pre_tokenizer") ? tok["pre_tokenizer"] : nlohmann::json();
  const std::string pw = where + ": pre_tokenizer";
  std::vector<nlohmann::json> steps = flatten_sequence(pre, "pretokenizers", pw);
  bool byte_level = false, byte_level_regex = false;
  std::vector<std::string> patterns;
  for (const auto& step : steps) {
    std::string type = type_of(step, pw);
    if (type == "ByteLevel") {
      byte_level = true;
      if (json_bool(step, "add_prefix_space", false))
        throw Error(where + ": pre_tokenizer ByteLevel add_prefix_space=true has no llama.cpp equivalent");
      byte_level_regex = json_bool(step, "use_regex", true);
    } else if (type == "Split") {
      const nlohmann::json& pat = step.contains("pattern") ? step["pattern"] : nlohmann::json();
      if (!pat.is_object() || !pat.contains("Regex") || !pat["Regex"].is_string())
        throw Error(where + ": pre_tokenizer Split without a Regex pattern has no llama.cpp equivalent");
      if (json_text_or(step, "behavior", pw, "") != "Isolated" || json_bool(step, "invert", false))
        throw Error(where + ": pre_tokenizer Split must be behavior Isolated, invert false for llama.cpp");
      patterns.push_back(pat["Regex"].get<std::string>());
    } else {
      throw Error(where + ": pre_tokenizer " + (type.empty() ? std::string("(none)") : type) +
                  " is not byte-level BPE; GGUF export supports byte-level BPE tokenizers (GPT-2, Llama-3, Qwen2)");
    }
  }
  if (!byte_level)
    throw Error(where + ": pre_tokenizer has no ByteLevel step; GGUF export supports byte-level BPE tokenizers only");
  if (byte_level_regex) patterns.insert(patterns.begin(), kGpt2Pattern);
  if (patterns.size() != 1)
    throw Error(where + ": pre_tokenizer has " + std::to_string(patterns.size()) +
                " split patterns; llama.cpp knows exactly one of GPT-2, Llama-3 or Qwen2");

  // Normalizers: none, or NFC (Qwen2's), which llama.cpp's qwen2 pre-tokenizer goes with.
  const nlohmann::json norm = tok.contains("normalizer") ? tok["normalizer"] : nlohmann::json();
  std::string norm_type;
  for (const auto& n : flatten_sequence(norm, "normalizers", where + ": normalizer")) {
    std::string t = type_of(n, where + ": normalizer");
    if (t != "NFC") throw Error(where + ": normalizer " + t + " has no llama.cpp equivalent for byte-level BPE");
    norm_type = t;
  }

  const std::string& p = patterns[0];
  if (p == kLlama3Pattern && norm_type.empty()) return "llama-bpe";
  if (p == kQwen2Pattern) return "qwen2";
  if (p == kGpt2Pattern && norm_type.empty()) return "gpt-2";
  throw Error(where + ": pre_tokenizer pattern " + nlohmann::json(p).dump() +
              (norm_type.empty() ? "" : " with normalizer " + norm_type) +
              " is not one llama.cpp knows (GPT-2, Llama-3, Qwen2)");
}

// ---- the vocabulary

GgufVocab gguf_vocab_read(const std::string& dir, const LlamaConfig& config) {
  const int64_t n_vocab = config.vocab_size;
  const std::string path = dir + "/tokenizer.json";
  if (!file_exists(path)) throw Error(path + ": missing (GGUF export needs the tokenizer)");
  const nlohmann::json tok = read_json(path);
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object())
    throw Error(path + ": field model is missing");
  const nlohmann::json& model = tok["model"];
  std::string type = json_text_or(model, "type", path + ": model", "");
  if (type.empty() && model.contains("merges")) type = "BPE";
  if (type != "BPE")
    throw Error(path + ": model.type " + (type.empty() ? std::string("(none)") : type) +
                " cannot be exported to GGUF: only byte-level BPE tokenizers are supported");
  if (json_bool(model, "byte_fallback", false))
    throw Error(path + ": model.byte_fallback=true (SentencePiece-style BPE) cannot be exported: only byte-level BPE");

  GgufVocab v;
  v.pre = gguf_pre_tokenizer_name(tok, path);

  // Tokens by id: the model vocabulary, then added tokens (which may repeat vocabulary entries).
  std::map<int64_t, std::string> by_id;
  std::map<std::string, int64_t> by_text;
  if (!model.contains("vocab") || !model["vocab"].is_object()) throw Error(path + ": field model.vocab is missing");
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (!it.value().is_number_integer()) throw Error(path + ": model.vocab[" + it.key() + "] is not an integer id");
    int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= n_vocab)
      throw Error(path + ": model.vocab[" + it.key() + "] = " + std::to_string(id) + " is outside the model's " +
                  std::to_string(n_vocab) + " embedding rows");
    if (by_id.count(id)) throw Error(path + ": model.vocab: id " + std::to_string(id) + " is used twice");
    by_id[id] = it.key();
    by_text[it.key()] = id;
  }
  std::map<int64_t, bool> added_special;
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    size_t i = 0;
    for (const auto& a : tok["added_tokens"]) {
      std::string where = path + ": added_tokens[" + std::to_string(i++) + "]";
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string())
        throw Error(where + ": needs an integer id and a string content");
      int64_t id = a["id"].get<int64_t>();
      if (id < 0 || id >= n_vocab)
        throw Error(where + ": id " + std::to_string(id) + " is outside the model's " + std::to_string(n_vocab) +
                    " embedding rows");
      std::string content = a["content"].get<std::string>();
      by_id[id] = content;
      by_text[content] = id;
      added_special[id] = json_bool(a, "special", false);
    }
  }

  v.tokens.resize(static_cast<size_t>(n_vocab));
  v.token_types.resize(static_cast<size_t>(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      v.tokens[i] = "[PAD" + std::to_string(i) + "]";
      v.token_types[i] = kTokenUnused;
      continue;
    }
    v.tokens[i] = it->second;
    auto a = added_special.find(i);
    if (a == added_special.end()) v.token_types[i] = kTokenNormal;
    else if (a->second || gguf_token_looks_special(it->second)) v.token_types[i] = kTokenControl;
    else v.token_types[i] = kTokenUserDefined;
  }

  // Merges: "a b" strings, or [a, b] pairs (newer tokenizers).
  if (!model.contains("merges") || !model["merges"].is_array()) throw Error(path + ": field model.merges is missing");
  size_t mi = 0;
  for (const auto& m : model["merges"]) {
    if (m.is_string()) {
      v.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      throw Error(path + ": model.merges[" + std::to_string(mi) + "] is neither \"a b\" nor [\"a\", \"b\"]");
    }
    ++mi;
  }

  // ---- special tokens: tokenizer_config.json, then config.json, then the post-processor template
  nlohmann::json tcfg;
  if (file_exists(dir + "/tokenizer_config.json")) tcfg = read_json(dir + "/tokenizer_config.json");
  auto lookup = [&](const std::string& text) -> int64_t {
    auto it = by_text.find(text);
    return it == by_text.end() ? -1 : it->second;
  };
  int64_t bos = -1, eos = -1;
  std::string bos_text = special_token_text(tcfg, "bos_token"), eos_text = special_token_text(tcfg, "eos_token");
  if (!bos_text.empty()) bos = lookup(bos_text);
  if (!eos_text.empty()) eos = lookup(eos_text);
  if (bos < 0) bos = config.bos_token_id;
  if (eos < 0) eos = config.eos_token_id;  // the first when config.json lists several

  // A TemplateProcessing post-processor that puts a special token first adds BOS (Llama-3), last adds EOS.
  const nlohmann::json post = tok.contains("post_processor") ? tok["post_processor"] : nlohmann::json();
  const std::string ppw = path + ": post_processor";
  for (const auto& p : flatten_sequence(post, "processors", ppw)) {
    if (type_of(p, ppw) != "TemplateProcessing" || !p.contains("single") ||
        !p["single"].is_array() || p["single"].empty())
      continue;
    const nlohmann::json& single = p["single"];
    auto special_id = [&](const nlohmann::json& piece) -> int64_t {
      if (!piece.is_object() || !piece.contains("SpecialToken") || !piece["SpecialToken"].is_object()) return -1;
      std::string name = json_text_or(piece["SpecialToken"], "id", ppw, "");
      return lookup(name);
    };
    int64_t first = special_id(single.front()), last = special_id(single.back());
    if (first >= 0) {
      v.add_bos = true;
      if (bos < 0) bos = first;
    }
    if (last >= 0 && single.size() > 1) {
      v.add_eos = true;
      if (eos < 0) eos = last;
    }
  }
  v.add_bos = json_bool(tcfg, "add_bos_token", v.add_bos);
  v.add_eos = json_bool(tcfg, "add_eos_token", v.add_eos);
  if (tcfg.is_object() && tcfg.contains("chat_template") && tcfg["chat_template"].is_string())
    v.chat_template = tcfg["chat_template"].get<std::string>();

  // GPT-2 style tokenizers often have one "<|endoftext|>" that is both BOS and EOS.
  if (eos < 0) eos = lookup("<|endoftext|>");
  if (eos < 0)
    throw Error(path + ": no end-of-sequence token (set eos_token_id in config.json or eos_token in "
                "tokenizer_config.json); llama.cpp would otherwise stop at an arbitrary token");
  if (bos < 0) bos = eos;
  if (bos >= n_vocab || eos >= n_vocab)
    throw Error(dir + "/config.json: bos/eos token id outside the model's " + std::to_string(n_vocab) + " rows");
  if (v.add_bos && bos < 0) throw Error(path + ": add_bos_token is set but there is no BOS token");
  v.bos_id = static_cast<int32_t>(bos);
  v.eos_id = static_cast<int32_t>(eos);
  return v;
}

}  // namespace steper
