import { test } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { call, readStream } from "../helpers/http.js";
import { parseSse } from "../helpers/sse.js";

const auth = { "x-goog-api-key": "g-key-1" };
const tools = [
  {
    functionDeclarations: [
      {
        name: "find_flights",
        description: "Find flights",
        parameters: { type: "OBJECT", properties: { from: { type: "STRING" }, seats: { type: "INTEGER" } } },
      },
    ],
  },
];

test("gemini generateContent: JSON shape, systemInstruction, usageMetadata; ?key= auth", async () => {
  const sim = await startSimProvider({ dialect: "gemini" });
  try {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await call(`${sim.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      headers: auth,
      body: { systemInstruction: { parts: [{ text: "be kind" }] }, contents: [{ role: "user", parts: [{ text: "Write a haiku" }] }] },
    });
    assert.equal(r.status, 200);
    const c = r.json.candidates[0];
    assert.equal(c.content.role, "model");
    assert.match(c.content.parts[0].text, /^Echo: Write a haiku/);
    assert.equal(c.finishReason, "STOP");
    assert.equal(c.index, 0);
    const u = r.json.usageMetadata;
    assert.equal(u.candidatesTokenCount, 16);
    assert.ok(u.promptTokenCount > 0);
    assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount);
    assert.equal(r.json.modelVersion, "gemini-2.5-flash");

    const q = await call(`${sim.url}/v1beta/models/gemini-2.5-pro:generateContent?key=g-key-2`, {
      body: { systemInstruction: { parts: [{ text: "Say exactly: Hola mundo" }] }, contents: [{ parts: [{ text: "Hello world" }] }] },
    });
    assert.equal(q.status, 200);
    assert.equal(q.json.candidates[0].content.parts[0].text, "Hola mundo");
    assert.equal(sim.stats().by_key["g-key-2"], 1);
  } finally {
    await sim.close();
  }
});

test("gemini streamGenerateContent?alt=sse: whole responses per event, finishReason and usage on the last; JSON array without alt", async () => {
  const sim = await startSimProvider({ dialect: "gemini", stream_chunks: 3 });
  try {
    const body = { contents: [{ role: "user", parts: [{ text: "Stream please" }] }] };
    const s = await readStream(`${sim.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, { headers: auth, body });
    assert.equal(s.status, 200);
    assert.equal(s.error, undefined);
    assert.ok(s.text.includes("\r\n\r\n"), "events end with CRLF CRLF like the real API");
    const events = parseSse(s.text).map((e) => JSON.parse(e.data));
    assert.equal(events.length, 3);
    const text = events.map((e) => e.candidates[0].content.parts[0].text).join("");
    assert.match(text, /^Echo: Stream please/);
    assert.equal(events[0].candidates[0].finishReason, undefined);
    assert.equal(events[2].candidates[0].finishReason, "STOP");
    assert.equal(events[2].usageMetadata.candidatesTokenCount, 16);
    assert.equal(events[0].usageMetadata, undefined);

    const arr = await readStream(`${sim.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, { headers: auth, body });
    const parsed = JSON.parse(arr.text);
    assert.ok(Array.isArray(parsed));
    assert.equal(parsed.map((e: any) => e.candidates[0].content.parts[0].text).join(""), text);
  } finally {
    await sim.close();
  }
});

test("gemini functionCall (JSON and stream); functionResponse answers text quoting it", async () => {
  const sim = await startSimProvider({ dialect: "gemini" });
  try {
    const url = `${sim.url}/v1beta/models/gemini-2.5-flash:generateContent`;
    const r = await call(url, { headers: auth, body: { tools, contents: [{ role: "user", parts: [{ text: "Flights from Paris" }] }] } });
    const part = r.json.candidates[0].content.parts[0];
    assert.deepEqual(part.functionCall, { name: "find_flights", args: { from: "sample", seats: 1 } });
    assert.equal(r.json.candidates[0].finishReason, "STOP");

    const s = await readStream(`${sim.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      headers: auth,
      body: { tools, contents: [{ role: "user", parts: [{ text: "Flights" }] }] },
    });
    const events = parseSse(s.text).map((e) => JSON.parse(e.data));
    assert.equal(events.at(-1).candidates[0].content.parts[0].functionCall.name, "find_flights");

    const follow = await call(url, {
      headers: auth,
      body: {
        tools,
        contents: [
          { role: "user", parts: [{ text: "Flights from Paris" }] },
          { role: "model", parts: [part] },
          { role: "user", parts: [{ functionResponse: { name: "find_flights", response: { flights: ["AF123"] } } }] },
        ],
      },
    });
    assert.match(follow.json.candidates[0].content.parts[0].text, /AF123/);
  } finally {
    await sim.close();
  }
});

test("gemini errors: 429 RESOURCE_EXHAUSTED with RetryInfo, 401 UNAUTHENTICATED without key; models list; embedContent", async () => {
  const sim = await startSimProvider({ dialect: "gemini", rate_limit_rate: 1, retry_after_s: 7 });
  try {
    const url = `${sim.url}/v1beta/models/gemini-2.5-flash:generateContent`;
    const body = { contents: [{ parts: [{ text: "x" }] }] };
    const r = await call(url, { headers: auth, body });
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, 429);
    assert.equal(r.json.error.status, "RESOURCE_EXHAUSTED");
    assert.equal(r.json.error.details[0].retryDelay, "7s");
    assert.equal(r.headers["retry-after"], undefined, "Gemini puts the delay in the body only");
    const noKey = await call(url, { body });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.json.error.status, "UNAUTHENTICATED");
    await sim.set({ rate_limit_rate: 0 });
    const models = await call(`${sim.url}/v1beta/models`, { headers: auth });
    assert.ok(models.json.models.some((m: { name: string }) => m.name === "models/gemini-2.5-flash"));
    const e = await call(`${sim.url}/v1beta/models/text-embedding-004:embedContent`, {
      headers: auth,
      body: { content: { parts: [{ text: "hi" }] } },
    });
    assert.equal(e.json.embedding.values.length, 8);
  } finally {
    await sim.close();
  }
});

test("gemini 429s carry the delay only in the body: RetryInfo in whole seconds, no Retry-After header", async () => {
  const sim = await startSimProvider({ dialect: "gemini", rate_limit_rate: 1, retry_after_s: 2.5 });
  try {
    const url = `${sim.url}/v1beta/models/gemini-2.5-flash:generateContent`;
    const body = { contents: [{ parts: [{ text: "x" }] }] };
    const dice = await call(url, { headers: auth, body });
    assert.equal(dice.status, 429);
    assert.deepEqual(dice.json.error.details, [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "3s" }]);
    assert.equal(dice.headers["retry-after"], undefined);

    await sim.set({ rate_limit_rate: 0, key_quota: { requests: 1, window_s: 40 } });
    assert.equal((await call(url, { headers: auth, body })).status, 200);
    const quota = await call(url, { headers: auth, body });
    assert.equal(quota.status, 429);
    const info = quota.json.error.details.find((d: { "@type": string }) => d["@type"] === "type.googleapis.com/google.rpc.RetryInfo");
    assert.match(info.retryDelay, /^(39|40)s$/);
    assert.equal(quota.headers["retry-after"], undefined);
  } finally {
    await sim.close();
  }
});
