/**
 * Splitting a batched embeddings answer back into its members' answers (pure): each member gets
 * its own items re-indexed from 0 whatever order they came in, usage parts that add up to the
 * batch's exactly, and an answer that cannot be split safely is refused whole.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { apportion, splitEmbeddings } from "../../src/batch/batch-split.js";

const RUNS = { numRuns: Number(process.env.PROP_RUNS ?? 200) };

function answer(vectors: number[][], order = vectors.map((_, i) => i), usage: unknown = { prompt_tokens: 10, total_tokens: 10 }) {
  return JSON.stringify({
    object: "list",
    data: order.map((i) => ({ object: "embedding", index: i, embedding: vectors[i] })),
    model: "m",
    usage,
  });
}

test("apportion: the parts add up to the total exactly and follow the weights within one unit", () => {
  fc.assert(
    fc.property(fc.nat(1_000_000), fc.array(fc.nat(10_000), { minLength: 1, maxLength: 64 }), (total, weights) => {
      const parts = apportion(total, weights);
      assert.equal(parts.length, weights.length);
      assert.equal(
        parts.reduce((a, b) => a + b, 0),
        total,
      );
      const sum = weights.reduce((a, b) => a + b, 0);
      parts.forEach((p, i) => {
        assert.ok(Number.isInteger(p) && p >= 0);
        const exact = sum === 0 ? total / weights.length : (total * weights[i]!) / sum;
        assert.ok(Math.abs(p - exact) < 1, `part ${p} vs exact ${exact}`);
      });
    }),
    RUNS,
  );
  assert.deepEqual(apportion(10, [1, 1, 1]), [4, 3, 3]);
  assert.deepEqual(apportion(0, [5, 5]), [0, 0]);
});

test("each member gets its own vectors re-indexed from 0, even from an answer listed out of order", () => {
  const vectors = [[0.1], [0.2], [0.3], [0.4], [0.5]];
  const shares = splitEmbeddings(answer(vectors, [4, 2, 0, 1, 3]), [2, 1, 2], [6, 3, 6]);
  assert.ok(Array.isArray(shares));
  const bodies = shares.map((s) => JSON.parse(s.body));
  assert.deepEqual(
    bodies.map((b) => b.data.map((d: { index: number; embedding: number[] }) => [d.index, d.embedding[0]])),
    [
      [
        [0, 0.1],
        [1, 0.2],
      ],
      [[0, 0.3]],
      [
        [0, 0.4],
        [1, 0.5],
      ],
    ],
  );
  for (const b of bodies) {
    assert.equal(b.object, "list");
    assert.equal(b.model, "m");
  }
  assert.deepEqual(
    bodies.map((b) => b.usage.prompt_tokens),
    [4, 2, 4],
  );
  assert.deepEqual(
    shares.map((s) => s.usage?.total_tokens),
    [4, 2, 4],
  );
});

test("an answer without usage splits without usage", () => {
  const shares = splitEmbeddings(answer([[1], [2]], [0, 1], null), [1, 1], [1, 1]);
  assert.ok(Array.isArray(shares));
  assert.deepEqual(
    shares.map((s) => s.usage),
    [null, null],
  );
});

/** Why the split refused (fails the test when it did not). */
function refusal(r: ReturnType<typeof splitEmbeddings>): string {
  assert.equal(typeof r, "string", "the split was refused");
  return r as string;
}

test("an answer that cannot be split safely is refused whole", () => {
  const two = [[1], [2]];
  assert.match(refusal(splitEmbeddings("not json", [1, 1], [1, 1])), /not JSON/);
  assert.match(refusal(splitEmbeddings(JSON.stringify({ object: "list" }), [1, 1], [1, 1])), /no data array/);
  assert.match(refusal(splitEmbeddings(answer(two), [1, 2], [1, 1])), /2 embeddings for 3 inputs/);
  assert.match(refusal(splitEmbeddings(answer(two, [0, 0]), [1, 1], [1, 1])), /repeated index/);
  assert.match(refusal(splitEmbeddings(answer(two, [0, 1]).replace('"index":1', '"index":7'), [1, 1], [1, 1])), /bad or repeated index/);
});
