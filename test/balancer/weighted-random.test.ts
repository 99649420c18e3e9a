import { test } from "node:test";
import assert from "node:assert/strict";
import { createWeightedRandom } from "../../src/balancer/weighted-random.js";
import { makePool, sequence } from "./fixtures.js";
import { countBy } from "../helpers/count.js";

test("weighted-random lands within 1 percentage point of 70/20/10 over 100,000 picks", () => {
  const pool = makePool([
    { id: "a", weight: 70 },
    { id: "b", weight: 20 },
    { id: "c", weight: 10 },
  ]);
  const counts = countBy(sequence(createWeightedRandom(pool, { seed: 7 }), pool, 100_000));
  assert.ok(Math.abs(counts.a! / 1000 - 70) < 1, `a ${counts.a}`);
  assert.ok(Math.abs(counts.b! / 1000 - 20) < 1, `b ${counts.b}`);
  assert.ok(Math.abs(counts.c! / 1000 - 10) < 1, `c ${counts.c}`);
});

test("weighted-random with the same seed repeats its picks; another seed does not", () => {
  const pool = makePool([{ weight: 1 }, { weight: 1 }, { weight: 1 }]);
  const a = sequence(createWeightedRandom(pool, { seed: 42 }), pool, 200);
  const b = sequence(createWeightedRandom(pool, { seed: 42 }), pool, 200);
  const c = sequence(createWeightedRandom(pool, { seed: 43 }), pool, 200);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("weighted-random never picks an ineligible target", () => {
  const pool = makePool([{ weight: 100 }, { weight: 1 }, { weight: 1 }]);
  const ids = sequence(createWeightedRandom(pool, { seed: 1 }), [pool[1]!, pool[2]!], 1000);
  assert.ok(!ids.includes("t0"));
  assert.ok(countBy(ids).t1! > 400 && countBy(ids).t2! > 400);
});

test("weighted-random names a bad seed", () => {
  assert.throws(() => createWeightedRandom(makePool([{}]), { seed: 1.5 }), {
    message: "strategy_options.weighted-random.seed: must be an integer",
  });
});
