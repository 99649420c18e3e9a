import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { call } from "../helpers/http.js";
import { parseSse } from "../helpers/sse.js";

/**
 * The response cache end to end: real gateway, real simulators. Two LLM routes (OpenAI and
 * Anthropic surfaces) over the same OpenAI simulator share one cache namespace; a REST route
 * caches GETs; a third LLM route's simulator is taken down for stale-if-error.
 */
const f = await simRoute({
  sims: [
    { dialect: "openai", name: "main", stream_chunks: 6 },
    { dialect: "rest", name: "quotes" },
    { dialect: "openai", name: "flaky", latency_ms: 30 },
  ] as const,
  routes: ([main, quotes, flaky]) => [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      cache: { ttl_s: 60, namespace: "assistant" },
      targets: [{ id: "main", provider: "openai", base_url: main.url, key: "sk-sim-0001" }],
    },
    {
      name: "claude",
      surface: "anthropic",
      models: ["demo"],
      cache: { ttl_s: 60, namespace: "assistant" },
      targets: [{ id: "main-a", provider: "openai", base_url: main.url, key: "sk-sim-0001" }],
    },
    {
      name: "quotes",
      surface: "rest",
      service: "quotes",
      cache: { ttl_s: 60 },
      targets: [{ id: "quotes", provider: "rest", base_url: quotes.url }],
    },
    {
      name: "flaky",
      surface: "openai",
      models: ["flaky"],
      cache: { ttl_s: 0.2, stale_ttl_s: 60 },
      retry: { attempts: 1 },
      targets: [{ id: "flaky", provider: "openai", base_url: flaky.url, key: "sk-sim-0003" }],
    },
  ],
});
const {
  url,
  sims: [main, quotes, flaky],
} = f;
after(() => f.close());

let n = 0;
/** A question no other test asked (entries are shared by the whole file). */
const question = (tag: string) => `${tag} question ${++n}: what is a load balancer?`;
const chat = (q: string, extra: Record<string, unknown> = {}) => ({
  model: "demo",
  messages: [{ role: "user", content: q }],
  max_tokens: 50,
  ...extra,
});

test("a repeated request is a hit: the identical body, no upstream call", async () => {
  const q = question("repeat");
  const before = main.stats().requests;
  const first = await call(`${url}/v1/chat/completions`, { body: chat(q) });
  assert.equal(first.status, 200);
  assert.equal(first.headers["x-switchyard-cache"], "miss");
  const second = await call(`${url}/v1/chat/completions`, { body: chat(q) });
  assert.equal(second.status, 200);
  assert.equal(second.headers["x-switchyard-cache"], "hit");
  assert.equal(second.text, first.text);
  assert.equal(main.stats().requests, before + 1, "one upstream call for two requests");
  assert.ok(Number(second.headers["age"]) >= 0);
});

test("fields that change the answer are in the key; the stream flag is not", async () => {
  const q = question("fields");
  await call(`${url}/v1/chat/completions`, { body: chat(q) });
  const hotter = await call(`${url}/v1/chat/completions`, { body: chat(q, { temperature: 1.5 }) });
  assert.equal(hotter.headers["x-switchyard-cache"], "miss");
  const streamed = await call(`${url}/v1/chat/completions`, { body: chat(q, { stream: true }) });
  assert.equal(streamed.headers["x-switchyard-cache"], "hit");
  assert.match(streamed.headers["content-type"] ?? "", /text\/event-stream/);
  const events = parseSse(streamed.text);
  assert.equal(events.at(-1)?.data, "[DONE]");
  const text = events
    .slice(0, -1)
    .map((e) => JSON.parse(e.data).choices?.[0]?.delta?.content ?? "")
    .join("");
  const plain = await call(`${url}/v1/chat/completions`, { body: chat(q) });
  assert.equal(text, plain.json.choices[0].message.content, "the replayed stream says what the entry says");
});

test("the same question from the Anthropic dialect meets the OpenAI client's entry (shared namespace)", async () => {
  const q = question("dialects");
  const before = main.stats().requests;
  const openai = await call(`${url}/v1/chat/completions`, { body: chat(q) });
  const anthropic = await call(`${url}/v1/messages`, {
    headers: { "anthropic-version": "2023-06-01" },
    body: { model: "demo", max_tokens: 50, messages: [{ role: "user", content: [{ type: "text", text: q }] }] },
  });
  assert.equal(anthropic.status, 200);
  assert.equal(anthropic.headers["x-switchyard-cache"], "hit");
  assert.equal(anthropic.json.type, "message");
  assert.equal(anthropic.json.content[0].text, openai.json.choices[0].message.content);
  assert.equal(main.stats().requests, before + 1);
});

test("a streamed answer becomes an entry once complete, and a plain request hits it", async () => {
  const q = question("stream-first");
  const before = main.stats().requests;
  const streamed = await call(`${url}/v1/chat/completions`, { body: chat(q, { stream: true }) });
  assert.equal(streamed.headers["x-switchyard-cache"], "miss");
  const live = parseSse(streamed.text)
    .slice(0, -1)
    .map((e) => JSON.parse(e.data).choices?.[0]?.delta?.content ?? "")
    .join("");
  const plain = await call(`${url}/v1/chat/completions`, { body: chat(q) });
  assert.equal(plain.headers["x-switchyard-cache"], "hit");
  assert.equal(plain.json.choices[0].message.content, live);
  assert.equal(main.stats().requests, before + 1);
});

test("a broken stream is never cached", async () => {
  const q = question("broken");
  await main.set({ drop_after_chunks: 3 });
  try {
    const broken = await call(`${url}/v1/chat/completions`, { body: chat(q, { stream: true }) });
    assert.equal(broken.headers["x-switchyard-cache"], "miss");
  } finally {
    await main.set({ drop_after_chunks: undefined });
  }
  const again = await call(`${url}/v1/chat/completions`, { body: chat(q) });
  assert.equal(again.headers["x-switchyard-cache"], "miss", "the broken answer left no entry");
  await main.set({ stream_error_after_chunks: 2 });
  const q2 = question("error-event");
  try {
    await call(`${url}/v1/chat/completions`, { body: chat(q2, { stream: true }) });
  } finally {
    await main.set({ stream_error_after_chunks: undefined });
  }
  assert.equal((await call(`${url}/v1/chat/completions`, { body: chat(q2) })).headers["x-switchyard-cache"], "miss");
});

test("Cache-Control: no-store neither reads nor writes; no-cache refreshes the entry", async () => {
  const q = question("directives");
  const before = main.stats().requests;
  const a = await call(`${url}/v1/chat/completions`, { headers: { "cache-control": "no-store" }, body: chat(q) });
  assert.equal(a.headers["x-switchyard-cache"], "bypass");
  const b = await call(`${url}/v1/chat/completions`, { body: chat(q) });
  assert.equal(b.headers["x-switchyard-cache"], "miss", "no-store left nothing");
  const c = await call(`${url}/v1/chat/completions`, { headers: { "cache-control": "no-cache" }, body: chat(q) });
  assert.equal(c.headers["x-switchyard-cache"], "bypass");
  const d = await call(`${url}/v1/chat/completions`, { body: chat(q) });
  assert.equal(d.headers["x-switchyard-cache"], "hit");
  assert.equal(main.stats().requests, before + 3);
});

test("identical concurrent requests share one upstream call (coalescing): 100 → 1, 100 full answers", async () => {
  await main.set({ latency_ms: 150 });
  try {
    const q = question("coalesce");
    const before = main.stats().requests;
    const replies = await Promise.all(Array.from({ length: 100 }, () => call(`${url}/v1/chat/completions`, { body: chat(q) })));
    assert.equal(main.stats().requests, before + 1);
    const bodies = new Set(replies.map((r) => r.text));
    assert.equal(bodies.size, 1, "every client got the same whole answer");
    assert.ok(replies.every((r) => r.status === 200 && r.json.choices[0].message.content.length > 0));
    const results = replies.map((r) => r.headers["x-switchyard-cache"]);
    assert.equal(results.filter((r) => r === "miss").length, 1);
    assert.equal(results.filter((r) => r === "coalesced").length, 99);
  } finally {
    await main.set({ latency_ms: 0 });
  }
});

test("a coalesced leader whose client leaves does not cancel the others", async () => {
  await main.set({ latency_ms: 300 });
  try {
    const q = question("leader-leaves");
    const leader = new AbortController();
    const leaving = call(`${url}/v1/chat/completions`, { body: chat(q), signal: leader.signal }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    const followers = Array.from({ length: 5 }, () => call(`${url}/v1/chat/completions`, { body: chat(q) }));
    await new Promise((r) => setTimeout(r, 50));
    leader.abort();
    assert.ok((await leaving) instanceof Error);
    const replies = await Promise.all(followers);
    assert.ok(replies.every((r) => r.status === 200 && r.json.choices[0].message.content.length > 0));
  } finally {
    await main.set({ latency_ms: 0 });
  }
});

test("REST GETs are cached by URL; other methods are not", async () => {
  const before = quotes.stats().requests;
  const a = await call(`${url}/rest/quotes/v1/quote?symbol=IBM`);
  const b = await call(`${url}/rest/quotes/v1/quote?symbol=IBM`);
  const other = await call(`${url}/rest/quotes/v1/quote?symbol=AAPL`);
  assert.equal(a.headers["x-switchyard-cache"], "miss");
  assert.equal(b.headers["x-switchyard-cache"], "hit");
  assert.equal(b.text, a.text);
  assert.equal(b.headers["content-type"], a.headers["content-type"]);
  assert.equal(other.headers["x-switchyard-cache"], "miss");
  const post = await call(`${url}/rest/quotes/v1/quote?symbol=IBM`, { body: { x: 1 } });
  assert.equal(post.headers["x-switchyard-cache"], undefined);
  assert.equal(quotes.stats().requests, before + 3);
});

test("stale-if-error: with every target down, an entry past its TTL is served with a warning", async () => {
  const body = { model: "flaky", messages: [{ role: "user", content: question("stale") }], max_tokens: 20 };
  const fresh = await call(`${url}/v1/chat/completions`, { body });
  assert.equal(fresh.status, 200);
  await new Promise((r) => setTimeout(r, 300)); // past ttl_s 0.2
  await flaky.set({ down: true });
  try {
    const stale = await call(`${url}/v1/chat/completions`, { body });
    assert.equal(stale.status, 200);
    assert.equal(stale.headers["x-switchyard-cache"], "stale");
    assert.match(stale.headers["warning"] ?? "", /^111 /);
    assert.equal(stale.text, fresh.text);
    const unknown = await call(`${url}/v1/chat/completions`, { body: { ...body, max_tokens: 21 } });
    assert.ok(unknown.status >= 500, "no entry: the failure as it is");
  } finally {
    await flaky.set({ down: false });
  }
});

test("status and metrics say what the cache did", async () => {
  const status = (await (await fetch(`${url}/admin/status`)).json()) as any;
  const c = status.admission.cache;
  assert.equal(c.store, "memory");
  assert.ok(c.entries > 0 && c.bytes > 0);
  assert.ok(c.routes.chat.hit > 0 && c.routes.chat.miss > 0 && c.routes.chat.coalesced >= 99);
  assert.ok(c.routes.flaky.stale >= 1);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const series = (result: string) =>
    Number(new RegExp(`^switchyard_cache_requests_total\\{route="chat",result="${result}"\\} (\\d+)`, "m").exec(metrics)?.[1]);
  assert.equal(series("hit"), c.routes.chat.hit);
  assert.equal(series("coalesced"), c.routes.chat.coalesced);
});
