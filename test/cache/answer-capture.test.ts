/**
 * AnswerCapture against real upstream bodies from the simulator, in each dialect: a stream and a
 * JSON answer to the same question capture to the same canonical completion however the bytes
 * are split; a stream cut short, a stream carrying an error event, garbage and an oversize body
 * capture to nothing.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AnswerCapture } from "../../src/cache/answer-capture.js";
import type { ChatCompletion, Dialect } from "../../src/providers/canonical.js";
import { KINDS, QUESTION, WIRES, ask, meaning, startSims, type Kind } from "./sim-answers.js";

const RUNS = { numRuns: Number(process.env.PROP_RUNS ?? 60) };
const BIG = 1 << 20;

const { sims, close } = await startSims();
after(close);

/** Each dialect's answers, fetched once: [wire][kind] → { json, sse } bytes. */
const bodies = {} as Record<Dialect, Record<Kind, { json: Buffer; sse: Buffer }>>;
for (const wire of WIRES) {
  const sim = sims[wire];
  bodies[wire] = {
    text: { json: await ask(sim, wire, "text", false), sse: await ask(sim, wire, "text", true) },
    tool: { json: await ask(sim, wire, "tool", false), sse: await ask(sim, wire, "tool", true) },
  };
}

/** Captures bytes pushed in pieces cut at the given offsets. */
function capture(wire: Dialect, sse: boolean, bytes: Buffer, cuts: number[] = [], maxBytes = BIG): AnswerCapture {
  const cap = new AnswerCapture(wire, sse, maxBytes);
  let prev = 0;
  for (const at of [...cuts.map((c) => Math.min(c, bytes.length)).sort((a, b) => a - b), bytes.length]) {
    if (at > prev) cap.push(bytes.subarray(prev, at));
    prev = at;
  }
  return cap;
}

function captured(wire: Dialect, sse: boolean, bytes: Buffer, cuts: number[] = []): ChatCompletion {
  const cap = capture(wire, sse, bytes, cuts);
  const c = cap.end();
  assert.ok(c !== null, `${wire} ${sse ? "stream" : "JSON"} not captured (${cap.skipped}): ${bytes.toString("utf8").slice(0, 400)}`);
  return c;
}

/**
 * The completion without what legitimately differs between two captures of the same bytes: the
 * clock, and the ids invented for Gemini's tool calls (Gemini sends none).
 */
function timeless(c: ChatCompletion): Omit<ChatCompletion, "created"> {
  const { created: _created, ...rest } = structuredClone(c);
  for (const ch of rest.choices) for (const t of ch.message.tool_calls ?? []) t.id = t.id.startsWith("call_") ? "call_" : t.id;
  return rest;
}

const cutsOf = (len: number) => fc.array(fc.nat(len), { maxLength: 16 });

for (const wire of WIRES) {
  for (const kind of KINDS) {
    test(`${wire} ${kind} answer: the stream and the JSON body capture to the same completion`, () => {
      const { json, sse } = bodies[wire][kind];
      const fromJson = captured(wire, false, json);
      const fromStream = captured(wire, true, sse);
      assert.deepEqual(meaning(fromStream), meaning(fromJson));
      const choice = fromStream.choices[0]!;
      assert.equal(fromStream.choices.length, 1);
      assert.ok(fromStream.usage && fromStream.usage.prompt_tokens > 0 && fromStream.usage.completion_tokens > 0);
      assert.equal(fromStream.usage.total_tokens, fromStream.usage.prompt_tokens + fromStream.usage.completion_tokens);
      assert.ok(fromStream.id !== "" && fromStream.model !== "", "id and model come from the stream");
      if (kind === "text") {
        assert.equal(choice.finish_reason, "stop");
        assert.ok(choice.message.content!.startsWith(`Echo: ${QUESTION.slice(0, 20)}`), choice.message.content!);
        assert.equal(choice.message.content, fromJson.choices[0]!.message.content);
        assert.equal(choice.message.tool_calls, undefined);
        assert.equal(fromStream.usage.completion_tokens, 20);
      } else {
        assert.equal(choice.finish_reason, "tool_calls");
        assert.equal(choice.message.content, null, "no text beside a tool call is null, as in the JSON answer");
        assert.equal(fromJson.choices[0]!.message.content, null);
        const calls = choice.message.tool_calls!;
        assert.equal(calls.length, 1);
        assert.equal(calls[0]!.function.name, "get_weather");
        assert.ok(calls[0]!.id !== "", "a tool call always has an id");
        assert.equal(typeof (JSON.parse(calls[0]!.function.arguments) as { city: unknown }).city, "string");
      }
    });

    test(`${wire} ${kind} answer: however the bytes are split, stream and JSON capture the same`, () => {
      const { json, sse } = bodies[wire][kind];
      const wholeStream = timeless(captured(wire, true, sse));
      const wholeJson = timeless(captured(wire, false, json));
      fc.assert(
        fc.property(cutsOf(sse.length), cutsOf(json.length), (sseCuts, jsonCuts) => {
          assert.deepEqual(timeless(captured(wire, true, sse, sseCuts)), wholeStream);
          assert.deepEqual(timeless(captured(wire, false, json, jsonCuts)), wholeJson);
        }),
        RUNS,
      );
    });
  }

  test(`${wire}: whole() reads the same answer as push(), stream and JSON`, () => {
    const { json, sse } = bodies[wire].text;
    for (const [isSse, bytes] of [
      [true, sse],
      [false, json],
    ] as const) {
      const cap = new AnswerCapture(wire, isSse, BIG);
      cap.whole(bytes.toString("utf8"));
      const c = cap.end();
      assert.ok(c !== null);
      assert.deepEqual(timeless(c), timeless(captured(wire, isSse, bytes)));
      assert.equal(cap.end(), c, "end() is idempotent");
    }
  });
}

test("push() and whole() mix, in order, stream and JSON", () => {
  /** The first offset at or after `at` that starts a character (an ASCII byte). */
  const boundary = (b: Buffer, at: number) => {
    while (at < b.length && b[at]! >= 0x80) at++;
    return at;
  };
  for (const wire of WIRES) {
    for (const sse of [true, false]) {
      const bytes = bodies[wire].text[sse ? "sse" : "json"];
      const a = boundary(bytes, Math.floor(bytes.length / 3));
      const b = boundary(bytes, Math.floor((2 * bytes.length) / 3));
      const cap = new AnswerCapture(wire, sse, BIG);
      cap.whole(bytes.subarray(0, a).toString("utf8"));
      cap.push(bytes.subarray(a, b));
      cap.whole(bytes.subarray(b).toString("utf8"));
      const c = cap.end();
      assert.ok(c !== null, `${wire} ${sse}: ${cap.skipped}`);
      assert.deepEqual(timeless(c), timeless(captured(wire, sse, bytes)));
    }
  }
});

/** Where each dialect's end marker starts: the event that makes a stream complete. */
function markerStart(wire: Dialect, sse: Buffer): number {
  const text = sse.toString("latin1"); // one char per byte: offsets are byte offsets
  const needle = wire === "openai" ? '"finish_reason":"' : wire === "anthropic" ? "event: message_stop" : '"finishReason"';
  const at = text.indexOf(needle);
  assert.ok(at > 0, `${wire} stream has its end marker`);
  return wire === "anthropic" ? at : text.lastIndexOf("data:", at);
}

for (const wire of WIRES) {
  test(`${wire}: a stream cut anywhere before its end marker is not captured`, () => {
    for (const kind of KINDS) {
      const { sse } = bodies[wire][kind];
      const end = markerStart(wire, sse);
      for (let len = 0; len < end; len++) {
        const cap = capture(wire, true, sse.subarray(0, len));
        assert.equal(cap.end(), null, `${wire} ${kind} cut at ${len}/${sse.length} was captured`);
        assert.ok(cap.skipped === "truncated" || cap.skipped === "malformed", `cut at ${len}: ${cap.skipped}`);
      }
      const cut = capture(wire, true, sse.subarray(0, end));
      assert.equal(cut.end(), null);
      assert.equal(cut.skipped, "truncated");
    }
  });

  test(`${wire}: a stream cut anywhere captures nothing or the whole answer, never part of one`, () => {
    for (const kind of KINDS) {
      const { sse } = bodies[wire][kind];
      const full = meaning(captured(wire, true, sse));
      for (let len = 0; len <= sse.length; len++) {
        const c = capture(wire, true, sse.subarray(0, len)).end();
        if (c === null) continue;
        const got = meaning(c);
        assert.deepEqual(got.choices, full.choices, `${wire} ${kind} cut at ${len}/${sse.length}`);
        // OpenAI: a finish reason is end enough (as for live answers); the usage chunk may be what was cut.
        if (wire !== "openai" || got.usage !== null) assert.deepEqual(got.usage, full.usage);
      }
    }
  });

  test(`${wire}: a JSON body cut anywhere is not captured`, () => {
    const { json } = bodies[wire].text;
    for (let len = 0; len < json.length; len++) {
      const cap = capture(wire, false, json.subarray(0, len));
      assert.equal(cap.end(), null, `cut at ${len}/${json.length}`);
      assert.equal(cap.skipped, "malformed");
    }
  });
}

test("a stream that carries the provider's error event is not captured", async () => {
  const failing = await startSims({ stream_error_after_chunks: 3 });
  try {
    for (const wire of WIRES) {
      const sse = await ask(failing.sims[wire], wire, "text", true);
      assert.ok(sse.toString("utf8").includes("error"), `${wire} sim sent its error event`);
      const cap = capture(wire, true, sse);
      assert.equal(cap.end(), null, wire);
      assert.equal(cap.skipped, "upstream_error", wire);
    }
  } finally {
    await failing.close();
  }
});

test("an error event after a complete-looking start stops the capture at once: later events change nothing", () => {
  const { sse } = bodies.anthropic.text;
  const cap = new AnswerCapture("anthropic", true, BIG);
  const stop = sse.indexOf("event: message_stop");
  cap.push(sse.subarray(0, stop));
  cap.push(Buffer.from('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'));
  assert.equal(cap.skipped, "upstream_error");
  cap.push(sse.subarray(stop));
  assert.equal(cap.end(), null);
});

test("garbage is not captured, as a stream or as JSON, in any dialect", () => {
  const texts = [
    "",
    "<html><body>502 Bad Gateway</body></html>",
    "data: not json\n\n",
    "data: [DONE]\n\n", // an end marker with no answer
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    "null",
    "[]",
    '{"error":{"message":"boom","type":"server_error"}}',
    '{"choices":[]}',
    '{"choices":[1]}',
    '{"id":"x","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":7},"finish_reason":"stop"}]}',
    '{"id":"x","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","tool_calls":[{"id":1}]},"finish_reason":"stop"}]}',
  ];
  for (const wire of WIRES) {
    for (const sse of [true, false]) {
      for (const t of texts) {
        const cap = capture(wire, sse, Buffer.from(t));
        assert.equal(cap.end(), null, `${wire} ${sse ? "stream" : "JSON"} captured ${JSON.stringify(t)}`);
        assert.ok(cap.skipped !== null);
      }
    }
  }
  fc.assert(
    fc.property(fc.constantFrom(...WIRES), fc.boolean(), fc.uint8Array({ maxLength: 512 }), (wire, sse, bytes) => {
      assert.equal(capture(wire, sse, Buffer.from(bytes)).end(), null);
    }),
    RUNS,
  );
});

test("a JSON answer whose choice has no finish reason is incomplete, not cached", () => {
  const body =
    '{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":null}]}';
  const cap = capture("openai", false, Buffer.from(body));
  assert.equal(cap.end(), null);
  assert.equal(cap.skipped, "incomplete");
  const ok = capture("openai", false, Buffer.from(body.replace("null}", '"stop"}'))).end();
  assert.equal(ok?.choices[0]?.message.content, "hi");
});

test("an OpenAI stream whose [DONE] comes without any finish reason is incomplete, not cached", () => {
  const stream =
    'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}\n\n' +
    "data: [DONE]\n\n";
  const cap = capture("openai", true, Buffer.from(stream));
  assert.equal(cap.end(), null);
  assert.equal(cap.skipped, "incomplete");
});

test("an answer that says nothing (a blocked prompt, an empty message) is not cached", () => {
  const anthropicStream =
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}\n\n' +
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":0}}\n\n' +
    'event: message_stop\ndata: {"type":"message_stop"}\n\n';
  const cases: [Dialect, boolean, string][] = [
    ["anthropic", true, anthropicStream],
    ["gemini", false, '{"promptFeedback":{"blockReason":"SAFETY"}}'],
    ["gemini", true, 'data: {"promptFeedback":{"blockReason":"SAFETY"},"responseId":"r"}\r\n\r\n'],
  ];
  for (const [wire, sse, body] of cases) {
    const cap = capture(wire, sse, Buffer.from(body));
    assert.equal(cap.end(), null, body);
    assert.equal(cap.skipped, "empty", body);
  }
  // A Gemini 2xx with no candidates and no blocked prompt is not an answer at all.
  const bare = capture("gemini", false, Buffer.from("{}"));
  assert.equal(bare.end(), null);
  assert.equal(bare.skipped, "malformed");
});

for (const wire of WIRES) {
  test(`${wire}: a body over maxBytes is not captured and stops being held at once`, () => {
    for (const sse of [true, false]) {
      const bytes = bodies[wire].text[sse ? "sse" : "json"];
      assert.ok(capture(wire, sse, bytes, [7, 100], bytes.length).end() !== null, "exactly maxBytes is fine");

      const over = new AnswerCapture(wire, sse, bytes.length - 1);
      over.push(bytes.subarray(0, 10));
      assert.equal(over.skipped, null);
      over.push(bytes.subarray(10));
      assert.equal(over.skipped, "oversize", "the piece that crosses the bound ends the capture");
      over.push(Buffer.from("more"));
      assert.equal(over.end(), null);
      assert.equal(over.skipped, "oversize");

      const whole = new AnswerCapture(wire, sse, bytes.length - 1);
      whole.whole(bytes.toString("utf8"));
      assert.equal(whole.end(), null);
      assert.equal(whole.skipped, "oversize");
    }
  });
}
