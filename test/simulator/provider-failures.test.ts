/** Failures that need each dialect's own wording: errors inside a 200 stream, keys out of credits. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SimDialect } from "../../src/simulator/sim-options.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { at } from "../helpers/at.js";
import { call, readStream } from "../helpers/http.js";
import { parseSse } from "../helpers/sse.js";

test("stream_error_after_chunks: N events, then the dialect's in-stream error, then a clean end", async () => {
  const oai = await startSimProvider({ dialect: "openai", stream_error_after_chunks: 2 });
  const ant = await startSimProvider({ dialect: "anthropic", stream_error_after_chunks: 3 });
  const gem = await startSimProvider({ dialect: "gemini", stream_error_after_chunks: 1 });
  try {
    const o = await readStream(`${oai.url}/chat/completions`, {
      headers: { authorization: "Bearer k" },
      body: { model: "m", stream: true, messages: [{ role: "user", content: "x" }] },
    });
    assert.equal(o.status, 200);
    assert.equal(o.error, undefined, "the connection ends cleanly");
    const oe = parseSse(o.text);
    assert.equal(oe.length, 3);
    assert.equal(JSON.parse(at(oe, 2).data).error.type, "server_error");
    assert.ok(!o.text.includes("[DONE]"));

    const a = await readStream(`${ant.url}/v1/messages`, {
      headers: { "x-api-key": "k" },
      body: { model: "m", max_tokens: 5, stream: true, messages: [{ role: "user", content: "x" }] },
    });
    const ae = parseSse(a.text);
    assert.deepEqual(
      ae.map((e) => e.event),
      ["message_start", "content_block_start", "ping", "error"],
    );
    assert.equal(JSON.parse(at(ae, 3).data).error.type, "overloaded_error");

    const g = await readStream(`${gem.url}/v1beta/models/g:streamGenerateContent?alt=sse`, {
      headers: { "x-goog-api-key": "k" },
      body: { contents: [{ parts: [{ text: "x" }] }] },
    });
    const ge = parseSse(g.text).map((e) => JSON.parse(e.data));
    assert.equal(ge.length, 2);
    assert.equal(ge[1].error.status, "INTERNAL");
    const arr = await readStream(`${gem.url}/v1beta/models/g:streamGenerateContent`, {
      headers: { "x-goog-api-key": "k" },
      body: { contents: [{ parts: [{ text: "x" }] }] },
    });
    assert.equal(JSON.parse(arr.text)[1].error.code, 500);
    assert.equal(oai.stats().completed, 1);
  } finally {
    await Promise.all([oai.close(), ant.close(), gem.close()]);
  }
});

test("exhausted_keys: each dialect's out-of-credits answer; other keys unaffected", async () => {
  const start = (dialect: SimDialect) => startSimProvider({ dialect, exhausted_keys: ["broke"] });
  const sims = await Promise.all([start("openai"), start("anthropic"), start("gemini"), start("rest")]);
  const [oai, ant, gem, rest] = sims;
  try {
    const chat = { model: "m", messages: [{ role: "user", content: "x" }] };
    const o = await call(`${oai.url}/chat/completions`, { headers: { authorization: "Bearer broke" }, body: chat });
    assert.equal(o.status, 429);
    assert.equal(o.json.error.code, "insufficient_quota");
    assert.equal(o.headers["retry-after"], undefined);
    assert.equal((await call(`${oai.url}/chat/completions`, { headers: { authorization: "Bearer rich" }, body: chat })).status, 200);

    const a = await call(`${ant.url}/v1/messages`, { headers: { "x-api-key": "broke" }, body: { ...chat, max_tokens: 5 } });
    assert.equal(a.status, 400);
    assert.match(a.json.error.message, /credit balance/);

    const g = await call(`${gem.url}/v1beta/models/g:generateContent?key=broke`, { body: { contents: [{ parts: [{ text: "x" }] }] } });
    assert.equal(g.status, 429);
    assert.equal(g.json.error.status, "RESOURCE_EXHAUSTED");
    assert.equal(g.json.error.details, undefined);

    assert.equal((await call(`${rest.url}/q?apikey=broke`)).status, 402);
  } finally {
    await Promise.all(sims.map((s) => s.close()));
  }
});
