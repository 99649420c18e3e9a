import assert from "node:assert/strict";
import { test } from "node:test";
import { CanonicalToAnthropicStream } from "../../src/providers/anthropic/from-canonical-stream.js";
import { AnthropicToCanonicalStream } from "../../src/providers/anthropic/to-canonical-stream.js";
import type { SseEvent } from "../../src/providers/sse.js";
import { at } from "../helpers/at.js";
import { assemble, openaiChunks, runClient, runUpstream, wire } from "./stream-helpers.js";

const ev = (data: object): SseEvent => ({ event: (data as { type: string }).type, data: JSON.stringify(data) });

/** The tool-use stream from docs.claude.com "Streaming Messages", with a thinking block and pings. */
const TOOL_STREAM: SseEvent[] = [
  ev({
    type: "message_start",
    message: {
      id: "msg_014p7gG3wDgGV9EUtLvnow3U",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      stop_sequence: null,
      usage: { input_tokens: 472, output_tokens: 2, cache_read_input_tokens: 400 },
      content: [],
      stop_reason: null,
    },
  }),
  ev({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
  ev({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "The user wants weather…" } }),
  ev({ type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "EqQBCgIYAhIM" } }),
  ev({ type: "content_block_stop", index: 0 }),
  ev({ type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }),
  { event: "ping", data: '{"type": "ping"}' },
  ev({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Okay" } }),
  ev({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: ", let's check the weather for São Paulo 🌦:" } }),
  ev({ type: "content_block_stop", index: 1 }),
  ev({
    type: "content_block_start",
    index: 2,
    content_block: { type: "tool_use", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", input: {} },
  }),
  ev({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "" } }),
  ev({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"location":' } }),
  ev({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: ' "São Paulo", "unit": "celsius"}' } }),
  ev({ type: "content_block_stop", index: 2 }),
  ev({ type: "content_block_start", index: 3, content_block: { type: "tool_use", id: "toolu_02", name: "get_time", input: {} } }),
  ev({ type: "content_block_delta", index: 3, delta: { type: "input_json_delta", partial_json: '{"tz":"America/Sao_Paulo"}' } }),
  ev({ type: "content_block_stop", index: 3 }),
  ev({ type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 89 } }),
  ev({ type: "message_stop" }),
];

test("anthropic upstream stream → canonical: text, two tool calls, finish, usage; same at every cut size", () => {
  const bytes = wire(TOOL_STREAM);
  for (const every of [1, 2, 3, 7, 64, bytes.length]) {
    const t = new AnthropicToCanonicalStream({ includeUsage: true });
    const chunks = runUpstream(t, bytes, every);
    assert.equal(t.error, null);
    assert.equal(t.done, true);
    const a = assemble(chunks);
    assert.equal(a.text[0], "Okay, let's check the weather for São Paulo 🌦:");
    assert.deepEqual(a.tools[0], [
      { id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", args: '{"location": "São Paulo", "unit": "celsius"}' },
      { id: "toolu_02", name: "get_time", args: '{"tz":"America/Sao_Paulo"}' },
    ]);
    assert.deepEqual(a.finish, ["tool_calls"]);
    assert.deepEqual(a.usage, {
      prompt_tokens: 872,
      completion_tokens: 89,
      total_tokens: 961,
      prompt_tokens_details: { cached_tokens: 400 },
    });
    const first = at(chunks, 0, "chunks");
    assert.equal(first.choices[0]?.delta.role, "assistant");
    assert.equal(first.id, "msg_014p7gG3wDgGV9EUtLvnow3U");
    assert.equal(chunks.at(-1)!.choices.length, 0, "usage chunk last, with no choices");
  }
});

test("anthropic upstream stream without include_usage emits no usage chunk but still counts usage", () => {
  const t = new AnthropicToCanonicalStream({ includeUsage: false });
  const chunks = runUpstream(t, wire(TOOL_STREAM), 50);
  assert.ok(chunks.every((c) => c.usage == null));
  assert.equal(t.usage?.completion_tokens, 89);
});

test("anthropic error event after a 200 becomes a canonical error", () => {
  const t = new AnthropicToCanonicalStream({ includeUsage: false });
  runUpstream(t, wire([at(TOOL_STREAM, 0), ev({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })]), 5);
  assert.deepEqual(t.error, { status: 529, type: "overloaded_error", message: "Overloaded" });
});

test("anthropic stream cut before message_stop is reported as truncated", () => {
  const t = new AnthropicToCanonicalStream({ includeUsage: false });
  runUpstream(t, wire(TOOL_STREAM.slice(0, 9)), 9);
  assert.equal(t.error?.code, "stream_truncated");
});

test("anthropic stream with a malformed event is reported, not thrown", () => {
  const t = new AnthropicToCanonicalStream({ includeUsage: false });
  assert.deepEqual(t.push({ event: "message_start", data: "{not json" }), []);
  assert.equal(t.error?.code, "stream_malformed");
});

test("canonical → anthropic client stream: the documented event sequence", () => {
  const chunks = openaiChunks({
    texts: ["Hel", "lo"],
    tools: [{ id: "call_9", name: "get_weather", fragments: ['{"loc', 'ation":"Paris"}'] }],
    finish: "tool_calls",
    usage: { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27, prompt_tokens_details: { cached_tokens: 5 } },
  });
  const events = runClient(new CanonicalToAnthropicStream({ model: "claude-alias", id: "msg_x" }), chunks);
  assert.deepEqual(
    events.map((e) => e.event),
    [
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ],
  );
  const data = events.map((e) => JSON.parse(e.data));
  assert.equal(data[0].message.model, "claude-alias");
  assert.equal(data[0].message.id, "msg_x");
  assert.deepEqual(data[5].content_block, { type: "tool_use", id: "call_9", name: "get_weather", input: {} });
  assert.equal(data[6].index, 1);
  assert.deepEqual(data[9], {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { input_tokens: 15, output_tokens: 7, cache_read_input_tokens: 5 },
  });
});

test("canonical → anthropic → canonical keeps text and tool arguments", () => {
  const chunks = openaiChunks({
    texts: ["Ça ", "va ", "bien 👍"],
    tools: [
      { id: "call_a", name: "f", fragments: ["{", '"x": [1, 2', "]}"] },
      { id: "call_b", name: "g", fragments: ['{"y":"\\n"}'] },
    ],
    finish: "tool_calls",
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  });
  const events = runClient(new CanonicalToAnthropicStream({ model: "m" }), chunks);
  const back = new AnthropicToCanonicalStream({ includeUsage: true });
  const a = assemble(runUpstream(back, wire(events), 13));
  assert.equal(back.error, null);
  assert.equal(a.text[0], "Ça va bien 👍");
  assert.deepEqual(a.tools[0], [
    { id: "call_a", name: "f", args: '{"x": [1, 2]}' },
    { id: "call_b", name: "g", args: '{"y":"\\n"}' },
  ]);
  assert.deepEqual(a.finish, ["tool_calls"]);
  assert.deepEqual(a.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
});

test("canonical → anthropic client error event", () => {
  const t = new CanonicalToAnthropicStream({ model: "m" });
  const [e] = t.error({ status: 429, type: "rate_limit_error", message: "slow down" });
  assert.ok(e !== undefined, "an error event");
  assert.equal(e.event, "error");
  assert.deepEqual(JSON.parse(e.data), { type: "error", error: { type: "rate_limit_error", message: "slow down" } });
  assert.deepEqual(t.end(), []);
});
