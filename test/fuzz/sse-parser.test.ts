/**
 * The SSE parser against hostile bytes: SSE-shaped tokens mixed with arbitrary bytes (invalid
 * UTF-8, lone CRs, NULs, BOMs), cut at arbitrary points. It never throws, gives the same events
 * however the bytes are cut, and keeps nothing but the unfinished line between chunks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SseParser, type SseEvent } from "../../src/providers/sse.js";

const TOKENS = [
  "data:",
  "data: ",
  "event:",
  "id:",
  "retry:",
  ":",
  "\r",
  "\n",
  "\r\n",
  "\n\n",
  "\uFEFF",
  " ",
  "\0",
  "[DONE]",
  "{",
  "}",
  '"',
];
const piece = fc.oneof(
  fc.constantFrom(...TOKENS).map((t) => Buffer.from(t, "utf8")),
  fc.string({ unit: "grapheme", maxLength: 12 }).map((s) => Buffer.from(s, "utf8")),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
);
/** A stream's bytes, and where to cut them (sorted, inside the stream). */
const stream = fc
  .array(piece, { maxLength: 60 })
  .map((parts) => Buffer.concat(parts))
  .chain((bytes) =>
    fc.record({
      bytes: fc.constant(bytes),
      cuts: fc
        .uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: 12 })
        .map((c) => c.sort((a, b) => a - b)),
    }),
  );

function parse(chunks: readonly Buffer[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end());
  return out;
}

function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    if (c <= at || c >= bytes.length) continue;
    out.push(bytes.subarray(at, c));
    at = c;
  }
  out.push(bytes.subarray(at));
  return out;
}

test("fuzz: hostile bytes cut anywhere never throw and parse to the same events as the whole", () => {
  fc.assert(
    fc.property(stream, ({ bytes, cuts }) => {
      const whole = parse([bytes]);
      const pieces = parse(cut(bytes, cuts));
      const byteByByte = parse([...bytes].map((b) => Buffer.from([b])));
      assert.deepEqual(pieces, whole);
      assert.deepEqual(byteByByte, whole);
      for (const ev of whole) {
        assert.equal(typeof ev.data, "string");
        assert.ok(ev.id === undefined || !ev.id.includes("\0"), "an id with NUL is dropped");
      }
    }),
    { seed: 0x55e, numRuns: 2_000 },
  );
});

test("fuzz: text chunks (strings) parse like their bytes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: "grapheme", maxLength: 10 })), { maxLength: 50 }),
      (parts) => {
        const p = new SseParser();
        const fromText: SseEvent[] = [];
        for (const s of parts) fromText.push(...p.push(s));
        fromText.push(...p.end());
        assert.deepEqual(fromText, parse(parts.map((s) => Buffer.from(s, "utf8"))));
      },
    ),
    { seed: 0x55f, numRuns: 1_000 },
  );
});

test("fuzz: one 8 MB line with no end, fed in 2,000 chunks, is carried whole and delivered at end()", () => {
  const p = new SseParser();
  const chunk = Buffer.alloc(4096, "a");
  assert.deepEqual(p.push("data: "), []);
  for (let i = 0; i < 2_000; i++) assert.equal(p.push(chunk).length, 0);
  const [ev] = p.end();
  assert.equal(ev?.data.length, 2_000 * 4096);
});
