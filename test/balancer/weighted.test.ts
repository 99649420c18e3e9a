import { test } from "node:test";
import assert from "node:assert/strict";
import { createWeighted } from "../../src/balancer/weighted.js";
import { makePool, sequence } from "./fixtures.js";
import { countBy } from "../helpers/count.js";

test("weighted 5/1/1 gives nginx's smooth sequence a a b a c a a", () => {
  const pool = makePool([
    { id: "a", weight: 5 },
    { id: "b", weight: 1 },
    { id: "c", weight: 1 },
  ]);
  const s = createWeighted(pool, {});
  const cycle = ["a", "a", "b", "a", "c", "a", "a"];
  assert.deepEqual(sequence(s, pool, 14), [...cycle, ...cycle]);
});

test("weighted 70/20/10 is exact over 10,000 picks and every window of 10 holds 7/2/1", () => {
  const pool = makePool([
    { id: "a", weight: 70 },
    { id: "b", weight: 20 },
    { id: "c", weight: 10 },
  ]);
  const ids = sequence(createWeighted(pool, {}), pool, 10_000);
  assert.deepEqual(countBy(ids), { a: 7000, b: 2000, c: 1000 });
  for (let i = 0; i + 10 <= ids.length; i++) assert.deepEqual(countBy(ids.slice(i, i + 10)), { a: 7, b: 2, c: 1 }, `window at ${i}`);
  // Interleaved: the heavy target never runs longer than smooth WRR allows (70 / (20 + 10) → runs of at most 3).
  let run = 0;
  let longest = 0;
  for (const id of ids) longest = Math.max(longest, (run = id === "a" ? run + 1 : 0));
  assert.equal(longest, 3);
});

test("weighted skips ineligible targets and shares among the rest by weight", () => {
  const pool = makePool([
    { id: "a", weight: 3 },
    { id: "b", weight: 1 },
    { id: "c", weight: 2 },
  ]);
  const s = createWeighted(pool, {});
  const ids = sequence(s, [pool[0]!, pool[1]!], 400);
  assert.deepEqual(countBy(ids), { a: 300, b: 100 });
});

test("weighted fractional weights keep their proportions", () => {
  const pool = makePool([
    { id: "a", weight: 0.7 },
    { id: "b", weight: 0.2 },
    { id: "c", weight: 0.1 },
  ]);
  assert.deepEqual(countBy(sequence(createWeighted(pool, {}), pool, 1000)), { a: 700, b: 200, c: 100 });
});

test("weighted shows current weights in status and rejects unknown options", () => {
  const pool = makePool([
    { id: "a", weight: 2 },
    { id: "b", weight: 1 },
  ]);
  const s = createWeighted(pool, {});
  sequence(s, pool, 1);
  assert.deepEqual(s.targetStatus!(pool[0]!), { weight: 2, current_weight: -1 });
  assert.deepEqual(s.targetStatus!(pool[1]!), { weight: 1, current_weight: 1 });
  assert.throws(() => createWeighted(pool, { smooth: true }), { message: "strategy_options.weighted.smooth: unknown option" });
});
