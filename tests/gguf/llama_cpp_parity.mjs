// Independent check of `steper export-gguf`: llama.cpp (through node-llama-cpp) loads the exported file,
// tokenizes like `steper tokenize`, and continues prompts greedily like `steper generate --json`.
//
// Usage: node llama_cpp_parity.mjs STEPER_BINARY WORK_DIR NODE_LLAMA_CPP_DIR CORPUS_JSONL
// Exit 0: parity; 1: a difference (printed); the caller maps an unreachable npm to 77 (skip).
//
// Comparison rule for greedy continuations (random from-scratch weights give arbitrary but deterministic
// tokens): the ids must be equal; at the first differing position the difference is accepted only as a
// near-tie, when llama.cpp's own log-probabilities of the two candidate tokens (teacher-forced on
// steper's ids) differ by less than TIE_NATS. Near-ties are reported; the rest must still agree after it.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [steper, work, cacheDir, corpus] = process.argv.slice(2);
if (!steper || !work || !cacheDir || !corpus) {
  console.error("usage: node llama_cpp_parity.mjs STEPER_BINARY WORK_DIR NODE_LLAMA_CPP_DIR CORPUS_JSONL");
  process.exit(2);
}
const MAX_TOKENS = 16;
const TIE_NATS = { f32: 1e-3, f16: 2e-2 };

// Texts for tokenization parity: letters, digits (GPT-2 groups digit runs), apostrophes, punctuation runs,
// non-ASCII letters, whitespace runs and newlines.
const TOKENIZE_TEXTS = [
  "Orlen Vask was born in Kestrin Valley in 1959; she didn't leave until 1990.",
  "Zéphyrin Moulé and Jürgen Falk — São Lucas, Brückenfeld!!  Two  spaces,\ttab\nnew line\n\n  end ",
  "It's 12345 km... they've 3 books (all about Port-Ellery?) we'll see; I'M HERE ''quoted''",
];
const PROMPTS = [
  "Orlen Vask was born in",
  "Q: Where did Mirela Tosh study?\nA:",
  "Brückenfeld is a town of",
];

function run(args) {
  const t0 = Date.now();
  const out = execFileSync(steper, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  console.log(`  steper ${args[0]} (${((Date.now() - t0) / 1000).toFixed(2)} s)`);
  return out;
}

function sameIds(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---- steper: a from-scratch model, exported twice

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const modelDir = path.join(work, "model");
console.log("steper side:");
run(["init", "--corpus", corpus, "--out", modelDir, "--size", "tiny", "--seed", "7"]);
const gguf = { f32: path.join(work, "model-f32.gguf"), f16: path.join(work, "model-f16.gguf") };
run(["export-gguf", "--model", modelDir, "--out", gguf.f32]);
run(["export-gguf", "--model", modelDir, "--out", gguf.f16, "--type", "f16"]);
const steperTokens = TOKENIZE_TEXTS.map((t) => JSON.parse(run(["tokenize", "--model", modelDir, t])));
const steperGen = PROMPTS.map((p) =>
  JSON.parse(run(["generate", "--model", modelDir, "--max-tokens", String(MAX_TOKENS), "--temperature", "0", "--json", p])));

// ---- llama.cpp

const { getLlama, LlamaLogLevel } = await import(
  pathToFileURL(path.join(cacheDir, "node_modules", "node-llama-cpp", "dist", "index.js")).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
let failures = 0;
const report = { tokenize: [], generate: [] };

for (const type of ["f32", "f16"]) {
  console.log(`llama.cpp side (${type}):`);
  const model = await llama.loadModel({ modelPath: gguf[type] });
  const eos = model.tokens.eos;
  const withBos = (ids) => (model.tokens.shouldPrependBosToken && model.tokens.bos != null ? [model.tokens.bos, ...ids] : ids);

  // Tokenization (plain text: special-token strings are not parsed, as in the prompts)
  for (let i = 0; i < TOKENIZE_TEXTS.length; ++i) {
    const ids = Array.from(model.tokenize(TOKENIZE_TEXTS[i], false));
    const ok = sameIds(ids, steperTokens[i]);
    if (!ok) {
      failures++;
      console.log(`  FAIL tokenize ${JSON.stringify(TOKENIZE_TEXTS[i])}\n    llama.cpp ${JSON.stringify(ids)}\n    steper    ${JSON.stringify(steperTokens[i])}`);
    }
    report.tokenize.push({ type, text: TOKENIZE_TEXTS[i], ok, n: ids.length });
  }

  // Greedy continuation
  const context = await model.createContext({ contextSize: 256, sequences: 1 });
  for (let i = 0; i < PROMPTS.length; ++i) {
    const want = steperGen[i];
    const promptIds = withBos(Array.from(model.tokenize(PROMPTS[i], false)));
    if (!sameIds(promptIds, want.prompt_ids)) {
      failures++;
      console.log(`  FAIL prompt ids ${JSON.stringify(PROMPTS[i])}\n    llama.cpp ${JSON.stringify(promptIds)}\n    steper    ${JSON.stringify(want.prompt_ids)}`);
      continue;
    }
    // Free-running greedy decoding.
    const seq = context.getSequence();
    const got = [];
    for await (const tok of seq.evaluate(promptIds, { temperature: 0, yieldEogToken: true })) {
      got.push(tok);
      if (got.length >= MAX_TOKENS || tok === eos) break;
    }
    seq.dispose();
    let steperIds = Array.from(want.ids);
    const llamaIds = got.slice(0, steperIds.length === MAX_TOKENS ? MAX_TOKENS : steperIds.length + 1);
    // steper may stop at EOS without emitting it; llama.cpp yields it: drop a trailing EOS on both sides.
    const trim = (ids) => (ids.length && ids[ids.length - 1] === eos ? ids.slice(0, -1) : ids);
    const a = trim(llamaIds), b = trim(steperIds);
    let verdict = "equal";
    if (!sameIds(a, b)) {
      // Teacher-force steper's ids through llama.cpp and look at the first differing position.
      let k = 0;
      while (k < a.length && k < b.length && a[k] === b[k]) ++k;
      const tseq = context.getSequence();
      const input = [...promptIds, ...b.slice(0, k)].map((t, j, all) =>
        j === all.length - 1 ? [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }] : t);
      const out = await tseq.controlledEvaluate(input);
      tseq.dispose();
      const probs = out[input.length - 1]?.next?.probabilities;
      const pa = probs?.get(a[k]) ?? 0, pb = probs?.get(b[k]) ?? 0;
      const gap = Math.log(Math.max(pa, 1e-30)) - Math.log(Math.max(pb, 1e-30));
      if (k < a.length && k < b.length && Math.abs(gap) < TIE_NATS[type]) {
        verdict = `near-tie at ${k} (log-prob gap ${gap.toExponential(2)} nats)`;
      } else {
        verdict = `DIFFERENT at ${k} (llama.cpp log-prob gap ${gap.toFixed(4)} nats)`;
        failures++;
      }
    }
    console.log(`  ${verdict.startsWith("DIFF") ? "FAIL" : "ok  "} generate ${JSON.stringify(PROMPTS[i])}: ${verdict}\n    llama.cpp ${JSON.stringify(a)}\n    steper    ${JSON.stringify(b)}`);
    report.generate.push({ type, prompt: PROMPTS[i], verdict, llama_cpp: a, steper: b });
  }
  await context.dispose();
  await model.dispose();
}
await llama.dispose();
fs.writeFileSync(path.join(work, "parity.json"), JSON.stringify(report, null, 1));
if (failures) {
  console.log(`${failures} difference(s) between llama.cpp and steper`);
  process.exit(1);
}
console.log("llama.cpp and steper agree");
