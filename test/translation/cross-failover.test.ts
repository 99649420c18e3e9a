/**
 * Failover across dialects: route `smart` has an OpenAI target first and an Anthropic target
 * second. When the OpenAI one fails, an OpenAI SDK streaming call completes from Anthropic and
 * the client sees a valid OpenAI stream. A failure inside the translated stream reaches the
 * client as an OpenAI error event naming the target, then [DONE].
 */
import { test, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { request } from "undici";
import { simRoute } from "../helpers/sim-route.js";
import { sseData } from "../helpers/sse.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "oai", stream_chunks: 4 },
    { dialect: "anthropic", name: "claude", stream_chunks: 4 },
  ],
  route: { name: "smart", surface: "openai", models: ["smart"], strategy: "tiered", retry: { attempts: 3 } },
  target: [
    { id: "oai", provider: "openai", key: "sk-oai-0001", model: "gpt-4o", tier: 1 },
    { id: "claude", provider: "anthropic", key: "sk-ant-0002", model: "claude-sonnet-4", tier: 2 },
  ],
});
const {
  gw,
  sims: [oai, claude],
} = f;
const client = new OpenAI({ apiKey: "client", baseURL: `${gw.url}/v1`, maxRetries: 0 });
after(() => f.close());
beforeEach(async () => {
  await oai.set({ down: false, error_rate: 0 });
  await claude.set({ stream_error_after_chunks: undefined, drop_after_chunks: undefined });
  oai.resetStats();
  claude.resetStats();
});

async function streamed(messages: OpenAI.ChatCompletionMessageParam[]) {
  const { data, response } = await client.chat.completions
    .create({ model: "smart", stream: true, stream_options: { include_usage: true }, messages })
    .withResponse();
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of data) chunks.push(chunk);
  return { chunks, headers: response.headers };
}

function assertValidOpenAIStream(chunks: OpenAI.ChatCompletionChunk[]): string {
  assert.ok(chunks.length >= 3);
  const id = chunks[0]!.id;
  let text = "";
  let finish: string | null = null;
  for (const c of chunks) {
    assert.equal(c.object, "chat.completion.chunk");
    assert.equal(c.id, id, "one id for the whole stream");
    assert.equal(c.model, "claude-sonnet-4");
    if (c.choices[0]) {
      text += c.choices[0].delta.content ?? "";
      if (c.choices[0].finish_reason) finish = c.choices[0].finish_reason;
    }
  }
  assert.equal(chunks[0]!.choices[0]!.delta.role, "assistant");
  assert.equal(finish, "stop");
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage && last.usage.completion_tokens > 0);
  return text;
}

test("OpenAI target down: an OpenAI SDK streaming call completes from the Anthropic target as a valid OpenAI stream", async () => {
  await oai.set({ down: true });
  const { chunks, headers } = await streamed([{ role: "user", content: "Hello failover" }]);
  assert.equal(headers.get("x-switchyard-target"), "claude");
  assert.equal(headers.get("x-switchyard-attempts"), "2");
  assert.match(assertValidOpenAIStream(chunks), /^Echo: Hello failover/);
  assert.equal(claude.stats().requests, 1);
});

test("OpenAI target answering 500: failover to Anthropic; the SDK's stream helper assembles the answer", async () => {
  await oai.set({ error_rate: 1, error_status: 500 });
  const runner = client.chat.completions.stream({ model: "smart", messages: [{ role: "user", content: "Hello again" }] });
  const final = await runner.finalChatCompletion();
  assert.match(final.choices[0]!.message.content ?? "", /^Echo: Hello again/);
  assert.equal(final.choices[0]!.finish_reason, "stop");
  assert.equal(oai.stats().by_status["500"], 1);
  assert.equal(claude.stats().by_status["200"], 1);
});

test("an error event inside the Anthropic stream reaches the OpenAI client as its error event naming the target, then [DONE]", async () => {
  await oai.set({ down: true });
  await claude.set({ stream_error_after_chunks: 4 });
  await assert.rejects(
    streamed([{ role: "user", content: "Hello broken" }]),
    (err: unknown) => err instanceof OpenAI.APIError && /target claude \(anthropic\)/.test(err.message) && /Overloaded/.test(err.message),
  );
  const res = await request(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "smart", stream: true, messages: [{ role: "user", content: "Hello broken" }] }),
  });
  const events: string[] = [];
  for await (const d of sseData(res.body)) events.push(d);
  assert.equal(events.at(-1), "[DONE]");
  const err = JSON.parse(events.at(-2)!);
  assert.equal(err.error.type, "server_error");
  assert.match(err.error.message, /^target claude \(anthropic\): Overloaded/);
  for (const e of events.slice(0, -2)) assert.equal(JSON.parse(e).object, "chat.completion.chunk");
  const status = await gw.status();
  const stats = status.routes[0].targets[1].stats;
  assert.ok(stats.by_outcome.broken_stream >= 2, "the failed streams count against the target");
});

test("an Anthropic stream cut mid-way ends the OpenAI client's stream with an error event, not a hang", async () => {
  await oai.set({ down: true });
  await claude.set({ drop_after_chunks: 4 });
  await assert.rejects(
    streamed([{ role: "user", content: "Hello dropped" }]),
    (err: unknown) => err instanceof OpenAI.APIError && /target claude \(anthropic\)/.test(err.message),
  );
});
