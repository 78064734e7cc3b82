// Encodes the parity texts with the reference encoder (@lenml/tokenizers) for every tokenizer the
// C++ parity test checks, and writes OUT_DIR/golden.json.
// usage: node make_golden.mjs NPM_DIR TEXTS_JSON OUT_DIR
import fs from "fs";
import path from "path";
import { pathToFileURL } from "url";

const [npmDir, textsPath, outDir] = process.argv.slice(2);
const lib = await import(
  pathToFileURL(path.join(npmDir, "node_modules/@lenml/tokenizers/dist/main.mjs")).href
);
const { TokenizerLoader } = lib;
const texts = JSON.parse(fs.readFileSync(textsPath, "utf8"));
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const pkg = (name) => path.join(npmDir, "node_modules/@lenml", name, "models");

// Each entry: a tokenizer.json the C++ side loads, the config the reference needs, extra texts.
const entries = [];
const llama3Json = path.join(pkg("tokenizer-llama3"), "tokenizer.json");
const qwen3Json = path.join(pkg("tokenizer-qwen3"), "tokenizer.json");
entries.push({ name: "llama3", file: llama3Json,
               config: readJson(path.join(pkg("tokenizer-llama3"), "tokenizer_config.json")) });
entries.push({ name: "qwen3", file: qwen3Json,
               config: readJson(path.join(pkg("tokenizer-qwen3"), "tokenizer_config.json")) });

// Meta's own Llama-3 tokenizer.json adds <|begin_of_text|> through a TemplateProcessing
// post-processor; the npm copy has a plain ByteLevel one. Check that layout too.
{
  const tj = readJson(llama3Json);
  tj.post_processor = {
    type: "Sequence",
    processors: [
      { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
      {
        type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } },
                 { Sequence: { id: "A", type_id: 0 } }],
        pair: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } },
               { Sequence: { id: "A", type_id: 0 } },
               { SpecialToken: { id: "<|begin_of_text|>", type_id: 1 } },
               { Sequence: { id: "B", type_id: 1 } }],
        special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [128000],
                                                 tokens: ["<|begin_of_text|>"] } },
      },
    ],
  };
  const dir = path.join(outDir, "llama3_template");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "tokenizer.json");
  fs.writeFileSync(file, JSON.stringify(tj));
  entries.push({ name: "llama3_template", file, config: { tokenizer_class: "PreTrainedTokenizerFast" } });
}

// Tokenizers written by bpe_train (tests/text/train_fixture.cpp): plain, and with extra added
// tokens that strip whitespace on either side.
entries.push({ name: "trained", file: path.join(outDir, "trained_tokenizer.json"), config: {} });
entries.push({
  name: "trained_added", file: path.join(outDir, "trained_added_tokenizer.json"), config: {},
  extra: ["a <mask>   b", "x [SEP]   y", "both <mask> [SEP] ends  ", "<mask>", "  [SEP]",
          "plain <note> token and<note>glued"],
});

// Seeded random strings over characters at the class boundaries the split patterns care about:
// letters (incl. Lm, Lt), numbers (Nd, Nl, No), marks, whitespace kinds, apostrophes, emoji.
const pool = [..." aZk09'sStTrReEvVmMlLdD.,!?-_\"()\n\r\t"].concat([
  "é", "ñ", "ß", "Ω", "λ", "中", "文", "の", "ア", "한", "😀", "👍🏽", "\u00a0", "\u3000", "\u2009",
  "\u0301", "٣", "１", "½", "①", "€", "—", "…", "\u200b", "ǅ", "ʰ", "〇", "Ⅻ", "  ", "\n\n", "123"]);
let seed = 20241128;
const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const fuzz = [];
for (let i = 0; i < 300; ++i) {
  let t = "";
  const len = rand(26);
  for (let k = 0; k < len; ++k) t += pool[rand(pool.length)];
  fuzz.push(t);
}

const golden = { reference: "@lenml/tokenizers " + readJson(
  path.join(npmDir, "node_modules/@lenml/tokenizers/package.json")).version, tokenizers: [] };
for (const e of entries) {
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: readJson(e.file), tokenizerConfig: e.config });
  const cases = [];
  for (const text of texts.concat(e.extra ?? [], fuzz)) {
    const ids = tok.encode(text, { add_special_tokens: false });
    const ids_special = tok.encode(text, { add_special_tokens: true });
    const decode = (skip) => ids.length === 0 ? "" :
      tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
    const decoded = decode(false);
    const decoded_skip = decode(true);
    cases.push({ text, ids, ids_special, decoded, decoded_skip });
  }
  golden.tokenizers.push({ name: e.name, file: e.file, cases });
}
fs.writeFileSync(path.join(outDir, "golden.json"), JSON.stringify(golden, null, 1));
