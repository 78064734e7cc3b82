// The reference encoder (@lenml/tokenizers) on the corpus bench_text writes with --corpus-out:
// node bench/text/bench_reference.mjs NPM_DIR CORPUS_JSON
import fs from "fs";
import path from "path";
import { pathToFileURL } from "url";

const [npmDir, corpusPath] = process.argv.slice(2);
const { TokenizerLoader } = await import(
  pathToFileURL(path.join(npmDir, "node_modules/@lenml/tokenizers/dist/main.mjs")).href);
const texts = JSON.parse(fs.readFileSync(corpusPath, "utf8"));
for (const name of ["tokenizer-llama3", "tokenizer-qwen3"]) {
  const dir = path.join(npmDir, "node_modules/@lenml", name, "models");
  let t0 = performance.now();
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
  });
  console.log(`${name}: load ${((performance.now() - t0) / 1000).toFixed(3)} s`);
  for (const pass of ["first pass", "second pass"]) {
    t0 = performance.now();
    let tokens = 0;
    for (const t of texts) tokens += tok.encode(t, { add_special_tokens: false }).length;
    const s = (performance.now() - t0) / 1000;
    console.log(`${name} encode ${pass}: ${texts.length} texts, ${tokens} tokens in ${s.toFixed(3)} s` +
                ` = ${(tokens / s / 1e6).toFixed(2)} M tokens/s`);
  }
}
