/**
 * The stream translators against hostile upstream streams: events shaped like each dialect's
 * with fields dropped or of the wrong type, events that are not JSON, out-of-order and repeated
 * events, cut at any point. Every upstream → client pair never throws: the upstream side ends
 * done or with a CanonicalError (a status and a message), and the client side turns whatever came
 * into events the SSE writer can encode.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Dialect, Usage } from "../../src/providers/canonical.js";
import { encodeSse, type SseEvent } from "../../src/providers/sse.js";
import { DIALECTS } from "../../src/providers/translators.js";
import { UsageReader } from "../../src/providers/usage-reader.js";
import { mutated, notJson } from "./hostile-json.js";

const OPENAI_EVENTS: unknown[] = [
  {
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [
      {
        index: 0,
        delta: {
          role: "assistant",
          content: "hi",
          refusal: null,
          reasoning_content: "r",
          tool_calls: [{ index: 0, id: "t1", type: "function", function: { name: "f", arguments: '{"a"' } }],
        },
        finish_reason: "stop",
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, prompt_tokens_details: { cached_tokens: 0 } },
  },
  { error: { message: "boom", type: "rate_limit_error", code: "c", param: null } },
];

const ANTHROPIC_EVENTS: unknown[] = [
  {
    type: "message_start",
    message: {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "m",
      content: [],
      stop_reason: null,
      usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    },
  },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t1", name: "f", input: {} } },
  { type: "content_block_start", index: 2, content_block: { type: "thinking", thinking: "", signature: "s" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi" } },
  { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"a":' } },
  { type: "content_block_delta", index: 2, delta: { type: "thinking_delta", thinking: "t" } },
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 3 } },
  { type: "message_stop" },
  { type: "ping" },
  { type: "error", error: { type: "overloaded_error", message: "busy" } },
];

const GEMINI_EVENTS: unknown[] = [
  {
    candidates: [
      {
        content: {
          role: "model",
          parts: [{ text: "hi" }, { functionCall: { name: "f", args: { a: 1 } }, thoughtSignature: "sig" }, { thought: true, text: "t" }],
        },
        finishReason: "STOP",
        index: 0,
        safetyRatings: [{ category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" }],
      },
    ],
    usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2, thoughtsTokenCount: 0, cachedContentTokenCount: 0 },
    promptFeedback: { blockReason: "SAFETY" },
    modelVersion: "m",
    responseId: "r",
  },
  { error: { code: 429, message: "slow down", status: "RESOURCE_EXHAUSTED" } },
];

const TEMPLATES: Record<Dialect, unknown[]> = { openai: OPENAI_EVENTS, anthropic: ANTHROPIC_EVENTS, gemini: GEMINI_EVENTS };
const NAMES = ["message_start", "content_block_start", "content_block_delta", "message_delta", "message_stop", "error", "ping"];

/** One upstream SSE event of a dialect: a mutated template as JSON, text that is not JSON, or an end marker. */
function upstreamEvent(d: Dialect): fc.Arbitrary<SseEvent> {
  const json = fc.oneof(...TEMPLATES[d].map((t) => mutated(t))).map((v) => JSON.stringify(v) ?? "null");
  const data = fc.oneof({ weight: 8, arbitrary: json }, { weight: 1, arbitrary: notJson }, { weight: 1, arbitrary: fc.constant("[DONE]") });
  const event = d === "anthropic" ? fc.option(fc.constantFrom(...NAMES), { nil: undefined }) : fc.constant(undefined);
  return fc.record({ data, event }).map((e): SseEvent => (e.event === undefined ? { data: e.data } : { event: e.event, data: e.data }));
}

const DIALECT_NAMES: readonly Dialect[] = ["openai", "anthropic", "gemini"];

/** Runs one upstream stream through to a client of each dialect, the way delivery does. */
function relay(up: Dialect, events: readonly SseEvent[], cutAt: number, includeUsage: boolean): void {
  for (const client of DIALECT_NAMES) {
    const from = DIALECTS[up].upstreamStream({ includeUsage });
    const to = DIALECTS[client].clientStream({ model: "m", includeUsage });
    let wire = "";
    const send = (evs: readonly SseEvent[]) => {
      for (const ev of evs) wire += encodeSse(ev);
    };
    for (const ev of events.slice(0, cutAt)) for (const chunk of from.push(ev)) send(to.push(chunk));
    for (const chunk of from.end()) send(to.push(chunk));
    if (from.error !== null) {
      assert.equal(typeof from.error.status, "number", `${up} error status`);
      assert.ok(from.error.status >= 400 && from.error.status < 600, `${up} error status ${from.error.status}`);
      assert.equal(typeof from.error.message, "string");
      send(to.error(from.error));
    } else {
      assert.ok(from.done, `${up}: ended without error means done`);
      send(to.end());
    }
    assert.equal(typeof wire, "string");
    assertUsage(from.usage, `${up} translated usage`);
  }
  // The same events relayed untranslated: the usage tap reads them for cost accounting.
  const reader = new UsageReader(up);
  for (const ev of events) {
    let obj: unknown;
    try {
      obj = JSON.parse(ev.data);
    } catch {
      continue;
    }
    reader.read(obj);
  }
  assertUsage(reader.usage, `${up} tapped usage`);
}

/** Usage the ledger can price: null, or token counts that are finite numbers >= 0. */
function assertUsage(u: Usage | null, what: string): void {
  if (u === null) return;
  for (const k of ["prompt_tokens", "completion_tokens", "total_tokens"] as const) {
    const v = u[k];
    assert.ok(typeof v === "number" && Number.isFinite(v) && v >= 0, `${what}: ${k} = ${String(v)}`);
  }
}

for (const up of DIALECT_NAMES)
  test(`fuzz: a hostile ${up} upstream stream, cut anywhere, never throws on its way to any client dialect`, () => {
    fc.assert(
      fc.property(fc.array(upstreamEvent(up), { maxLength: 14 }), fc.nat(), fc.boolean(), (events, cut, includeUsage) =>
        relay(up, events, cut % (events.length + 1), includeUsage),
      ),
      { seed: 0x5eed + up.length, numRuns: 1_500 },
    );
  });

test("regression: a streamed choice index in the billions cannot hold the event loop (a Gemini client's end() walked every index)", () => {
  for (const data of [
    '{"choices":[{"index":9007199254740991,"delta":{"content":"x"},"finish_reason":"stop"}]}',
    '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1e9,"function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}]}',
  ]) {
    const from = DIALECTS.openai.upstreamStream({ includeUsage: false });
    const to = DIALECTS.gemini.clientStream({ model: "m", includeUsage: false });
    for (const chunk of from.push({ data })) to.push(chunk);
    const err = from.error;
    assert.equal(err?.code, "stream_malformed", data);
    if (err !== null) assert.equal(to.error(err).length, 1, "the client gets one error event");
  }
  const gemini = DIALECTS.gemini.upstreamStream({ includeUsage: false });
  gemini.push({ data: '{"candidates":[{"index":4294967296,"content":{"parts":[{"text":"x"}]},"finishReason":"STOP"}]}' });
  assert.equal(gemini.error?.code, "stream_malformed");
});

test("regression: negative or non-numeric token counts from an upstream are priced as 0, never as credit", () => {
  const anthropic = DIALECTS.anthropic.upstreamStream({ includeUsage: true });
  anthropic.push({
    data: '{"type":"message_start","message":{"id":"m","model":"m","usage":{"input_tokens":-1000000,"output_tokens":"9"}}}',
  });
  assert.deepEqual(anthropic.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  const gemini = DIALECTS.gemini.upstreamStream({ includeUsage: true });
  gemini.push({ data: '{"candidates":[],"usageMetadata":{"promptTokenCount":-5,"candidatesTokenCount":{},"totalTokenCount":-5}}' });
  assert.deepEqual(gemini.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  const openai = DIALECTS.openai.upstreamStream({ includeUsage: true });
  openai.push({ data: '{"choices":[],"usage":{"prompt_tokens":-7,"completion_tokens":[],"total_tokens":-7}}' });
  assert.deepEqual(openai.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
});
