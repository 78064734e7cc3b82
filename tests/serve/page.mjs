// The page at / in headless Chromium: a question typed, the streamed steps and the answer read back and
// compared with the trace /v1/ask returns for the same question; a screenshot is taken.
// Usage: node page.mjs BASE_URL CHROMIUM NPM_DIR SCREENSHOT [QUESTION]
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import path from "node:path";

const [base, chromium, npmDir, shot, asked] = process.argv.slice(2);
const require = createRequire(path.resolve(npmDir, "package.json"));
const puppeteer = require("puppeteer-core");
const question = asked || "Who founded the employer of Stomia Preamane?";

const browser = await puppeteer.launch({ executablePath: chromium, headless: true,
                                         args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 900 });
  await page.goto(base + "/", { waitUntil: "load" });
  await page.type("#question", question);
  await page.$eval("#max-steps", (e) => { e.value = "3"; });
  await page.click("#ask");
  await page.waitForSelector("#answer.shown", { timeout: 60000 });
  const steps = await page.$$eval(".step", (els) => els.map((e) => ({
    query: e.querySelector(".query")?.textContent ?? "",
    titles: [...e.querySelectorAll(".passage b")].map((b) => b.textContent),
    sentence: e.querySelector(".sentence").textContent })));
  const answer = await page.$eval("#answer", (e) => e.textContent);
  assert.equal(await page.$eval("#error", (e) => e.textContent), "");
  await page.screenshot({ path: shot, fullPage: true });

  // The same question through /v1/ask without streaming (greedy: the same trace).
  const res = await fetch(base + "/v1/ask", { method: "POST", headers: { "Content-Type": "application/json" },
                                              body: JSON.stringify({ question, max_steps: 3 }) });
  const trace = await res.json();
  assert.equal(steps.length, trace.steps.length, "one box per step");
  trace.steps.forEach((s, i) => {
    assert.equal(steps[i].query, "retrieved with: " + s.query);
    assert.deepEqual(steps[i].titles, s.passages.map((p) => p.title));
    assert.equal(steps[i].sentence, s.sentence || "(no sentence)");
  });
  assert.equal(answer, trace.answered ? "Answer: " + trace.answer : "No answer (" + trace.end + ")");
  console.log(`page: ok, ${steps.length} steps, ${answer}`);
} finally {
  await browser.close();
}
