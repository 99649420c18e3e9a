import assert from "node:assert/strict";
import { test } from "node:test";
import { CanonicalToGeminiStream } from "../../src/providers/gemini/from-canonical-stream.js";
import { GeminiToCanonicalStream } from "../../src/providers/gemini/to-canonical-stream.js";
import type { SseEvent } from "../../src/providers/sse.js";
import { at } from "../helpers/at.js";
import { assemble, openaiChunks, runClient, runUpstream, wire } from "./stream-helpers.js";

const ev = (data: object): SseEvent => ({ data: JSON.stringify(data) });
const meta = { modelVersion: "gemini-2.5-flash", responseId: "r-1" };

/** `streamGenerateContent?alt=sse`: each data line a whole GenerateContentResponse; no [DONE]. */
const STREAM: SseEvent[] = [
  ev({
    candidates: [{ content: { role: "model", parts: [{ text: "Let me think", thought: true }] }, index: 0 }],
    usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
    ...meta,
  }),
  ev({
    candidates: [{ content: { role: "model", parts: [{ text: "Bonjour, " }] }, index: 0 }],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 2, totalTokenCount: 14 },
    ...meta,
  }),
  ev({ candidates: [{ content: { role: "model", parts: [{ text: "ça va ? 🙂" }] }, index: 0 }], ...meta }),
  ev({
    candidates: [
      {
        content: {
          role: "model",
          parts: [
            { functionCall: { name: "get_weather", args: { city: "Paris", days: [1, 2] } }, thoughtSignature: "sig" },
            { functionCall: { id: "fc-2", name: "get_time", args: {} } },
          ],
        },
        finishReason: "STOP",
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 9, thoughtsTokenCount: 4, totalTokenCount: 25 },
    ...meta,
  }),
];

test("gemini upstream stream → canonical: text, whole function calls, finish, usage at end; any cut size", () => {
  const bytes = wire(STREAM);
  for (const every of [1, 5, 17, bytes.length]) {
    const t = new GeminiToCanonicalStream({ includeUsage: true });
    const chunks = runUpstream(t, bytes, every);
    assert.equal(t.error, null);
    assert.equal(t.done, true);
    const a = assemble(chunks);
    assert.equal(a.text[0], "Bonjour, ça va ? 🙂");
    const tools = at(a.tools, 0, "tool calls of choice 0");
    assert.equal(tools.length, 2);
    assert.deepEqual({ ...at(tools, 0), id: "" }, { id: "", name: "get_weather", args: '{"city":"Paris","days":[1,2]}' });
    assert.deepEqual(tools[1], { id: "fc-2", name: "get_time", args: "{}" });
    assert.deepEqual(a.finish, ["tool_calls"]);
    assert.deepEqual(a.usage, {
      prompt_tokens: 12,
      completion_tokens: 13,
      total_tokens: 25,
      completion_tokens_details: { reasoning_tokens: 4 },
    });
    const first = at(chunks, 0, "chunks");
    assert.equal(first.id, "r-1");
    assert.equal(first.choices[0]?.delta.role, "assistant");
    const sigChunk = chunks.find((c) => c.choices[0]?.delta.tool_calls);
    assert.deepEqual(sigChunk?.choices[0]?.delta.tool_calls?.[0]?.extra_content, { google: { thought_signature: "sig" } });
  }
});

test("gemini stream closed before a finishReason is truncated", () => {
  const t = new GeminiToCanonicalStream({ includeUsage: true });
  runUpstream(t, wire(STREAM.slice(0, 3)), 8);
  assert.equal(t.error?.code, "stream_truncated");
});

test("gemini error payload in the stream becomes a canonical error", () => {
  const t = new GeminiToCanonicalStream({ includeUsage: false });
  runUpstream(t, wire([at(STREAM, 1), ev({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } })]), 8);
  assert.deepEqual(t.error, { status: 503, type: "overloaded_error", message: "The model is overloaded.", code: "UNAVAILABLE" });
});

test("gemini stream: a blocked prompt ends with content_filter", () => {
  const t = new GeminiToCanonicalStream({ includeUsage: false });
  const a = assemble(runUpstream(t, wire([ev({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" }, ...meta })]), 100));
  assert.equal(t.error, null);
  assert.deepEqual(a.finish, ["content_filter"]);
});

test("gemini stream with two candidates keeps them apart", () => {
  const two = [
    ev({
      candidates: [
        { content: { parts: [{ text: "A1" }] }, index: 0 },
        { content: { parts: [{ text: "B1" }] }, index: 1 },
      ],
      ...meta,
    }),
    ev({ candidates: [{ content: { parts: [{ text: "A2" }] }, finishReason: "STOP", index: 0 }], ...meta }),
    ev({ candidates: [{ content: { parts: [{ text: "B2" }] }, finishReason: "MAX_TOKENS", index: 1 }], ...meta }),
  ];
  const t = new GeminiToCanonicalStream({ includeUsage: false });
  const a = assemble(runUpstream(t, wire(two), 7));
  assert.equal(t.done, true);
  assert.deepEqual(a.text, ["A1A2", "B1B2"]);
  assert.deepEqual(a.finish, ["stop", "length"]);
});

test("canonical → gemini client stream: text at once, calls whole with finish and usage at the end", () => {
  const chunks = openaiChunks({
    texts: ["Hel", "lo"],
    tools: [{ id: "call_1", name: "f", fragments: ['{"a"', ": 1}"] }],
    finish: "tool_calls",
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
  });
  const events = runClient(new CanonicalToGeminiStream({ model: "gemini-alias", id: "r-9" }), chunks);
  const data = events.map((e) => JSON.parse(e.data));
  assert.deepEqual(data[0], {
    candidates: [{ content: { role: "model", parts: [{ text: "Hel" }] }, index: 0 }],
    modelVersion: "gemini-alias",
    responseId: "r-9",
  });
  assert.deepEqual(data.at(-1), {
    candidates: [
      {
        content: { role: "model", parts: [{ functionCall: { id: "call_1", name: "f", args: { a: 1 } } }] },
        finishReason: "STOP",
        index: 0,
      },
    ],
    modelVersion: "gemini-alias",
    responseId: "r-9",
    usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 10 },
  });
  assert.equal(events.length, 3);
});

test("canonical → gemini → canonical keeps text and tool arguments", () => {
  const chunks = openaiChunks({
    texts: ["un ", "deux ", "trois ✨"],
    tools: [
      { id: "call_a", name: "f", fragments: ['{"x":', "[1,2]}"] },
      { id: "call_b", name: "g", fragments: ['{"s":"a\\"b"}'] },
    ],
    finish: "tool_calls",
    usage: { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 },
  });
  const events = runClient(new CanonicalToGeminiStream({ model: "m" }), chunks);
  const back = new GeminiToCanonicalStream({ includeUsage: true });
  const a = assemble(runUpstream(back, wire(events), 9));
  assert.equal(back.error, null);
  assert.equal(a.text[0], "un deux trois ✨");
  assert.deepEqual(a.tools[0], [
    { id: "call_a", name: "f", args: '{"x":[1,2]}' },
    { id: "call_b", name: "g", args: '{"s":"a\\"b"}' },
  ]);
  assert.deepEqual(a.finish, ["tool_calls"]);
  assert.deepEqual(a.usage, { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
});

test("canonical → gemini client error", () => {
  const [e] = new CanonicalToGeminiStream({ model: "m" }).error({ status: 429, type: "rate_limit_error", message: "slow" });
  assert.ok(e !== undefined, "an error event");
  assert.deepEqual(JSON.parse(e.data), { error: { code: 429, message: "slow", status: "RESOURCE_EXHAUSTED" } });
});
