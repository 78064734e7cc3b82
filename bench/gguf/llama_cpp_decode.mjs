// Decoding speed of llama.cpp (node-llama-cpp) on a GGUF file, batch 1 and batched (one sequence per
// prompt in one context; node-llama-cpp decodes the sequences' tokens in one batch). The clock starts at
// the first generated token, so the prompt (prefill) is not counted. One JSON object a line on stdout.
//
// Usage: node llama_cpp_decode.mjs NODE_LLAMA_CPP_DIR MODEL.gguf NEW_TOKENS THREADS BATCH [BATCH...]
import path from "node:path";
import { pathToFileURL } from "node:url";

const [cacheDir, gguf, newTokensArg, threadsArg, ...batches] = process.argv.slice(2);
const nNew = Number(newTokensArg), threads = Number(threadsArg);
const PROMPT = "Orlen Vask was born in Kestrin Valley in 1959. She worked as a novelist and";

const { getLlama, LlamaLogLevel } = await import(
  pathToFileURL(path.join(cacheDir, "node_modules", "node-llama-cpp", "dist", "index.js")).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: gguf });
let prompt = Array.from(model.tokenize(PROMPT, false));
if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) prompt = [model.tokens.bos, ...prompt];

// Generates 1 + nNew tokens greedily in one sequence; returns when its first and its last token came.
async function decode(seq) {
  let first = 0, n = 0;
  const gen = seq.evaluate(prompt, { temperature: 0, yieldEogToken: true });
  for await (const _ of gen) {
    if (n === 0) first = performance.now();
    if (++n >= 1 + nNew) break;
  }
  if (n < 1 + nNew) throw new Error(`stopped after ${n} tokens`);
  return { first, last: performance.now() };
}

for (const b of batches.map(Number)) {
  const context = await model.createContext({
    contextSize: Math.max(256, (prompt.length + nNew + 8) * b), sequences: b, threads, batchSize: 512 });
  let best = Infinity;
  const seqs = Array.from({ length: b }, () => context.getSequence());
  for (let rep = 0; rep < 4; ++rep) {  // the first round warms up
    await Promise.all(seqs.map((s) => s.clearHistory()));
    const times = await Promise.all(seqs.map((s) => decode(s)));
    // Decoding time: from the earliest first token to the latest last token.
    const decodeMs = Math.max(...times.map((t) => t.last)) - Math.min(...times.map((t) => t.first));
    if (rep > 0 && decodeMs < best) best = decodeMs;
  }
  console.log(JSON.stringify({ engine: "llama.cpp", batch: b, new_tokens: nNew, prompt_tokens: prompt.length,
    decode_seconds: +(best / 1000).toFixed(4), tokens_per_s: +((b * nNew) / (best / 1000)).toFixed(1) }));
  await context.dispose();
}
await model.dispose();
await llama.dispose();
