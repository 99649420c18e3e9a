import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import OpenAI from "openai";
import { chatBody } from "../helpers/harness.js";
import { simRoute } from "../helpers/sim-route.js";
import { sseData } from "../helpers/sse.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "dropper", stream_chunks: 20, chunk_interval_ms: 5, drop_after_chunks: 5 },
    { dialect: "openai", name: "healthy", stream_chunks: 20 },
    { dialect: "anthropic", name: "claude", stream_chunks: 20, drop_after_chunks: 5 },
  ],
  routes: ([dropper, healthy, claude]) => [
    {
      name: "drops",
      surface: "openai",
      models: ["drops"],
      targets: [{ id: "dropper", provider: "openai", base_url: dropper.url, key: "sk-drop-0001" }],
    },
    {
      name: "mixed",
      surface: "openai",
      models: ["mixed"],
      strategy: "round-robin",
      targets: [
        { id: "dropper", provider: "openai", base_url: dropper.url, key: "sk-drop-0001" },
        { id: "healthy", provider: "openai", base_url: healthy.url, key: "sk-healthy-0002" },
      ],
    },
    {
      name: "claude",
      surface: "anthropic",
      models: ["claude"],
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ant-0003" }],
    },
  ],
});
const {
  gw,
  sims: [dropper],
} = f;
after(() => f.close());

async function stream(path: string, body: unknown) {
  const res = await request(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const events: string[] = [];
  for await (const d of sseData(res.body)) events.push(d);
  return { status: res.statusCode, headers: res.headers, events };
}

test("a drop after 5 chunks: the client gets those 5 chunks, then an OpenAI error event, then a clean end", async () => {
  const r = await stream("/v1/chat/completions", chatBody("drops", { stream: true }));
  assert.equal(r.status, 200);
  assert.equal(r.events.length, 7, r.events.join("\n"));
  for (const e of r.events.slice(0, 5)) assert.equal(JSON.parse(e).object, "chat.completion.chunk");
  const err = JSON.parse(r.events[5]!);
  assert.equal(err.error.code, "upstream_stream_broken");
  assert.match(err.error.message, /upstream dropper broke off the stream/);
  assert.equal(r.events[6], "[DONE]", "the stream still ends the way OpenAI clients read to");
  const status = (await (await fetch(`${gw.url}/admin/status`)).json()) as any;
  const t = status.routes[0].targets[0];
  assert.equal(t.stats.by_outcome.broken_stream, 1, "counted as a broken stream");
});

test("the OpenAI SDK raises the mid-stream error as an API error after the chunks it got", async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "client-key", maxRetries: 0 });
  const s = await client.chat.completions.create({ model: "drops", stream: true, messages: [{ role: "user", content: "hello" }] });
  let chunks = 0;
  await assert.rejects(
    (async () => {
      for await (const _ of s) chunks++;
    })(),
    (e: Error) => /broke off the stream/.test(e.message),
  );
  assert.equal(chunks, 5);
});

test("an Anthropic client gets Anthropic's error event", async () => {
  const r = await stream("/v1/messages", { model: "claude", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hello" }] });
  assert.equal(r.events.length, 6);
  const err = JSON.parse(r.events.at(-1)!);
  assert.equal(err.type, "error");
  assert.equal(err.error.type, "api_error");
});

test("a drop before the first chunk is retried on another target invisibly", async () => {
  await dropper.set({ drop_after_chunks: 0 });
  for (let i = 0; i < 4; i++) {
    const r = await stream("/v1/chat/completions", chatBody("mixed", { stream: true }));
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-switchyard-target"], "healthy");
    assert.equal(r.events.at(-1), "[DONE]");
    assert.ok(r.events.every((e) => e === "[DONE]" || !("error" in JSON.parse(e))));
  }
  await dropper.set({ drop_after_chunks: 5 });
});
