import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { SseFieldError, SseParser, type SseEvent, encodeSse, sseComment } from "../../src/providers/sse.js";

/** Plain objects without undefined fields, for deepEqual. */
function clean(events: SseEvent[]): SseEvent[] {
  return events.map((e) => {
    const o: SseEvent = { data: e.data };
    if (e.event !== undefined) o.event = e.event;
    if (e.id !== undefined) o.id = e.id;
    return o;
  });
}

function parseAll(chunks: (Buffer | string)[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end());
  return clean(out);
}

/** Splits bytes at the given cut points. */
function cut(buf: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => Math.max(0, Math.min(buf.length, p))))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of sorted) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

const ANTHROPIC_WIRE =
  'event: message_start\r\ndata: {"type":"message_start"}\r\n\r\n' +
  ": keep-alive comment\r\n\r\n" +
  'event: content_block_delta\r\ndata: {"text":"héllo wörld 🚀"}\r\n\r\n' +
  'event: ping\ndata: {"type": "ping"}\n\n' +
  "id: 7\nevent: multi\ndata: line one\ndata:line two\ndata\n\n";

const EXPECTED: SseEvent[] = [
  { event: "message_start", data: '{"type":"message_start"}' },
  { event: "content_block_delta", data: '{"text":"héllo wörld 🚀"}' },
  { event: "ping", data: '{"type": "ping"}' },
  { event: "multi", data: "line one\nline two\n", id: "7" },
];

test("sse parser reads events with CRLF, comments, multi-line data and fields without values", () => {
  assert.deepEqual(parseAll([ANTHROPIC_WIRE]), EXPECTED);
});

test("sse parser gives the same events for every single split point, mid-line and mid-UTF-8", () => {
  const bytes = Buffer.from(ANTHROPIC_WIRE, "utf8");
  for (let i = 0; i <= bytes.length; i++) assert.deepEqual(parseAll(cut(bytes, [i])), EXPECTED, `split at byte ${i}`);
});

test("sse parser handles one byte at a time", () => {
  const bytes = Buffer.from(ANTHROPIC_WIRE, "utf8");
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
  assert.deepEqual(parseAll(chunks), EXPECTED);
});

test("sse parser treats a lone CR as a line end, also when the CR ends a chunk", () => {
  assert.deepEqual(parseAll(["data: a\r\rdata: b\r", "\r"]), [{ data: "a" }, { data: "b" }]);
  assert.deepEqual(parseAll(["data: a\r", "\n\r\n"]), [{ data: "a" }]);
});

test("sse parser strips a leading BOM and ignores retry and unknown fields", () => {
  assert.deepEqual(parseAll(["\ufeffretry: 10\nfoo: bar\ndata: x\n\n"]), [{ data: "x" }]);
});

test("sse parser does not dispatch an event without data, and resets its event type", () => {
  assert.deepEqual(parseAll(["event: lonely\n\ndata: next\n\n"]), [{ data: "next" }]);
});

test("sse parser delivers an empty data line as an empty event", () => {
  assert.deepEqual(parseAll(["data:\n\n"]), [{ data: "" }]);
});

test("sse parser end() delivers a last event the server did not terminate", () => {
  assert.deepEqual(parseAll(['data: {"a":1}']), [{ data: '{"a":1}' }]);
  assert.deepEqual(parseAll(['data: {"a":1}\n']), [{ data: '{"a":1}' }]);
});

test("sse parser ignores an id containing NUL", () => {
  assert.deepEqual(parseAll(["id: a\0b\ndata: x\n\n"]), [{ data: "x" }]);
});

test("sse writer refuses CR and LF in event and id", () => {
  assert.throws(() => encodeSse({ event: "a\nb", data: "x" }), SseFieldError);
  assert.throws(() => encodeSse({ event: "a\rb", data: "x" }), SseFieldError);
  assert.throws(() => encodeSse({ id: "1\n2", data: "x" }), SseFieldError);
  assert.throws(() => sseComment("a\nb"), SseFieldError);
});

test("sse writer splits multi-line data into data lines", () => {
  assert.equal(encodeSse({ event: "e", id: "1", data: "a\r\nb\nc" }), "event: e\nid: 1\ndata: a\ndata: b\ndata: c\n\n");
  assert.equal(encodeSse({ data: "[DONE]" }), "data: [DONE]\n\n");
  assert.equal(sseComment("ping"), ": ping\n\n");
});

test("property: any events, encoded and cut anywhere, parse back the same", () => {
  const field = fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => !/[\r\n\0]/.test(s) && !s.startsWith(" "));
  const data = fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => s.replace(/\r\n?/g, "\n"));
  const event = fc.record({
    event: fc.option(
      field.filter((s) => s.length > 0),
      { nil: undefined },
    ),
    data,
    id: fc.option(field, { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(event, { maxLength: 8 }), fc.array(fc.nat(2000), { maxLength: 6 }), (events, points) => {
      const wire = Buffer.from(events.map((e) => encodeSse(e)).join(""), "utf8");
      assert.deepEqual(parseAll(cut(wire, points)), clean(events));
    }),
    { numRuns: 300 },
  );
});
