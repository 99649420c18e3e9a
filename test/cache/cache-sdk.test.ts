/**
 * Cache hits read by the official SDKs: a streamed hit (replayed from the entry) must be a
 * stream the OpenAI and Anthropic SDKs accept and accumulate to the same answer the live stream
 * gave; the second call makes no upstream call.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { simRoute } from "../helpers/sim-route.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "up", stream_chunks: 5 },
    { dialect: "anthropic", name: "up-a", stream_chunks: 5 },
  ] as const,
  routes: ([up, upA]) => [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      cache: { ttl_s: 60 },
      targets: [{ id: "up", provider: "openai", base_url: up.url, key: "sk-sim-0001" }],
    },
    {
      name: "messages",
      surface: "anthropic",
      models: ["demo"],
      cache: { ttl_s: 60 },
      targets: [{ id: "up-a", provider: "anthropic", base_url: upA.url, key: "sk-sim-0002" }],
    },
  ],
});
after(() => f.close());
const {
  url,
  sims: [up, upA],
} = f;

test("OpenAI SDK: a streamed hit accumulates to the live stream's answer, with no upstream call", async () => {
  const client = new OpenAI({ apiKey: "sk-client", baseURL: `${url}/v1`, maxRetries: 0 });
  const params = {
    model: "demo",
    messages: [{ role: "user" as const, content: "tell me about caches, openai sdk" }],
    stream_options: { include_usage: true },
  };
  const live = await client.chat.completions.stream(params).finalChatCompletion();
  const before = up.stats().requests;
  const { data: hitStream, response } = await client.chat.completions.create({ ...params, stream: true }).withResponse();
  assert.equal(response.headers.get("x-switchyard-cache"), "hit");
  let text = "";
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of hitStream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, live.choices[0]?.message.content);
  assert.ok(text.length > 0);
  assert.equal(usage?.completion_tokens, live.usage?.completion_tokens);
  const hit = await client.chat.completions.stream(params).finalChatCompletion();
  assert.equal(hit.choices[0]?.message.content, live.choices[0]?.message.content);
  assert.equal(hit.choices[0]?.finish_reason, live.choices[0]?.finish_reason);
  assert.equal(up.stats().requests, before, "both hits came from the cache");
});

test("Anthropic SDK: a streamed hit accumulates to the live stream's answer, with no upstream call", async () => {
  const client = new Anthropic({ apiKey: "sk-client", baseURL: url, maxRetries: 0 });
  const params = { model: "demo", max_tokens: 64, messages: [{ role: "user" as const, content: "tell me about caches, anthropic sdk" }] };
  const live = await client.messages.stream(params).finalMessage();
  const before = upA.stats().requests;
  const stream = client.messages.stream(params);
  const hit = await stream.finalMessage();
  assert.equal(hit.content[0]?.type, "text");
  assert.deepEqual(hit.content, live.content);
  assert.equal(hit.stop_reason, live.stop_reason);
  assert.equal(hit.usage.output_tokens, live.usage.output_tokens);
  const plain = await client.messages.create(params).withResponse();
  assert.equal(plain.response.headers.get("x-switchyard-cache"), "hit");
  assert.deepEqual(plain.data.content, live.content);
  assert.equal(upA.stats().requests, before);
});
