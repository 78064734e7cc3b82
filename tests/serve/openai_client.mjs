// The official OpenAI client for Node against `steper serve`: completions, chat, streaming of both, the
// model list, n seeded choices against `steper generate`, log-probabilities (completions with echo, the
// prompt scored alone, chat's top_logprobs whole and streamed), /tokenize, and a refused request. Usage: node openai_client.mjs BASE_URL STEPER MODEL_DIR NPM_DIR
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import path from "node:path";

const [base, steper, modelDir, npmDir] = process.argv.slice(2);
const require = createRequire(path.resolve(npmDir, "package.json"));
const OpenAI = require("openai");
const client = new OpenAI({ baseURL: base + "/v1", apiKey: "unused", maxRetries: 0 });
const prompt = "Wikipedia Title: Harrowgate\nHarrowgate is a city.\n\nQ: Where is Harrowgate?\nA:";

// What `steper generate` (the same model, greedy, in its own process) continues the prompt with.
const direct = JSON.parse(execFileSync(steper, ["generate", "--model", modelDir, "--max-tokens", "12", "--json", prompt],
                                       { encoding: "utf8" }));

const models = await client.models.list();
assert.equal(models.data.length, 1);

const c = await client.completions.create({ model: models.data[0].id, prompt, max_tokens: 12, temperature: 0 });
assert.equal(c.object, "text_completion");
assert.equal(c.choices[0].text, direct.text, "served completion = steper generate");
assert.equal(c.usage.prompt_tokens, direct.prompt_ids.length);
assert.equal(c.usage.completion_tokens, direct.ids.length);
assert.equal(c.choices[0].finish_reason, direct.ids.length === 12 ? "length" : "stop");

let streamed = "", chunks = 0, finish = null, usage = null;
const s = await client.completions.create({ model: "m", prompt, max_tokens: 12, temperature: 0, stream: true,
                                            stream_options: { include_usage: true } });
for await (const chunk of s) {
  if (chunk.usage) usage = chunk.usage;
  if (!chunk.choices.length) continue;
  streamed += chunk.choices[0].text;
  chunks++;
  if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
}
assert.equal(streamed, direct.text, "streamed completion = steper generate");
assert.ok(chunks >= 2, "the completion came in several chunks");
assert.equal(finish, c.choices[0].finish_reason);
assert.equal(usage.completion_tokens, direct.ids.length);

// Chat: the user message alone is the prompt, so the answer is the completion's.
const chat = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: prompt }],
                                                   max_tokens: 12, temperature: 0 });
assert.equal(chat.choices[0].message.role, "assistant");
assert.equal(chat.choices[0].message.content, direct.text);
let chatStreamed = "";
const cs = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: prompt }],
                                                 max_tokens: 12, temperature: 0, stream: true });
for await (const chunk of cs) chatStreamed += chunk.choices[0]?.delta?.content ?? "";
assert.equal(chatStreamed, direct.text);

// A stop string ends the text before it, streamed or not.
const cut = direct.text.slice(4, 7);
if (cut.trim().length === 3) {
  const stopped = await client.completions.create({ model: "m", prompt, max_tokens: 12, temperature: 0, stop: [cut] });
  assert.equal(stopped.choices[0].text, direct.text.slice(0, direct.text.indexOf(cut)));
  assert.equal(stopped.choices[0].finish_reason, "stop");
  let st = "";
  for await (const chunk of await client.completions.create({ model: "m", prompt, max_tokens: 12, temperature: 0,
                                                              stop: [cut], stream: true }))
    st += chunk.choices[0]?.text ?? "";
  assert.equal(st, stopped.choices[0].text);
}

// Sampling with a seed repeats itself.
const a = await client.completions.create({ model: "m", prompt, max_tokens: 8, temperature: 1, seed: 11 });
const b = await client.completions.create({ model: "m", prompt, max_tokens: 8, temperature: 1, seed: 11 });
assert.equal(a.choices[0].text, b.choices[0].text);

// n seeded choices: choice i is what `steper generate --seed 11+i` samples (model.h's choice_seed).
const three = await client.completions.create({ model: "m", prompt, max_tokens: 8, temperature: 1, seed: 11, n: 3 });
assert.equal(three.choices.length, 3);
for (let i = 0; i < 3; i++) {
  const run = JSON.parse(execFileSync(steper, ["generate", "--model", modelDir, "--max-tokens", "8", "--temperature", "1",
                                               "--seed", String(11 + i), "--json", prompt], { encoding: "utf8" }));
  assert.equal(three.choices[i].index, i);
  assert.equal(three.choices[i].text, run.text, `choice ${i} = steper generate --seed ${11 + i}`);
}

// Log-probabilities as the client types them. Completions with echo score the prompt too (how
// lm-evaluation-harness reads log-likelihoods): the first prompt token unscored, then every token's.
const scored = await client.completions.create({ model: "m", prompt, max_tokens: 3, temperature: 0, echo: true, logprobs: 2 });
const lp = scored.choices[0].logprobs;
const np = direct.prompt_ids.length;
assert.equal(scored.usage.prompt_tokens, np);
assert.equal(lp.tokens.length, np + scored.usage.completion_tokens);
assert.equal(lp.token_logprobs[0], null);
assert.equal(lp.top_logprobs[0], null);
assert.ok(lp.token_logprobs.slice(1).every((x) => typeof x === "number" && x <= 0));
assert.ok(lp.top_logprobs.slice(1).every((t) => Object.keys(t).length >= 2 && Object.keys(t).length <= 3));
for (let i = np; i < lp.tokens.length; i++)  // greedy: each new token is the most likely one
  assert.equal(lp.token_logprobs[i], Math.max(...Object.values(lp.top_logprobs[i])));
assert.ok(lp.text_offset.every((o, i) => i === 0 || o >= lp.text_offset[i - 1]));
assert.ok(scored.choices[0].text.startsWith(prompt));
// max_tokens 0 with echo: the prompt scored alone, with the same values
const alone = await client.completions.create({ model: "m", prompt, max_tokens: 0, echo: true, logprobs: 0 });
assert.equal(alone.usage.completion_tokens, 0);
assert.equal(alone.choices[0].text, prompt);
assert.deepEqual(alone.choices[0].logprobs.token_logprobs, lp.token_logprobs.slice(0, np));
// the server's tokenizer is the one steper generate encodes with
const tokenized = await (await fetch(base + "/tokenize", { method: "POST", headers: { "Content-Type": "application/json" },
                                                          body: JSON.stringify({ prompt }) })).json();
assert.deepEqual(tokenized.tokens, direct.prompt_ids);

// Chat: logprobs with top_logprobs, whole and streamed.
const cl = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: prompt }], max_tokens: 6,
                                                 temperature: 0, logprobs: true, top_logprobs: 2 });
const content = cl.choices[0].logprobs.content;
assert.equal(content.length, cl.usage.completion_tokens);
for (const t of content) {
  assert.equal(typeof t.token, "string");
  assert.equal(t.top_logprobs.length, 2);
  assert.equal(t.logprob, t.top_logprobs[0].logprob, "greedy: the token is the most likely");
}
assert.equal(Buffer.from(content.flatMap((t) => t.bytes)).toString("utf8"), cl.choices[0].message.content);
const streamedContent = [];
for await (const chunk of await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: prompt }],
    max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 2, stream: true }))
  streamedContent.push(...(chunk.choices[0]?.logprobs?.content ?? []));
assert.deepEqual(streamedContent, content);

// A refused request is the client's BadRequestError, with the field named.
await assert.rejects(client.completions.create({ model: "m", prompt, max_tokens: -3 }),
                     (e) => e.status === 400 && /max_tokens/.test(e.message));
console.log("openai_client: ok");
