import { test } from "node:test";
import assert from "node:assert/strict";
import { STRATEGY_FACTORIES } from "../../src/balancer/index.js";
import { makeCtx, makePool, sequence } from "./fixtures.js";
import { countBy } from "../helpers/count.js";

const createTiered = STRATEGY_FACTORIES.tiered;
const specs = [
  { id: "a1", tier: 1, weight: 3 },
  { id: "b2", tier: 2 },
  { id: "c1", tier: 1, weight: 1 },
  { id: "d3", tier: 3 },
  { id: "e2", tier: 2 },
];

test("tiered sends nothing to tier 2 while a tier 1 target is eligible", () => {
  const pool = makePool(specs);
  const s = createTiered(pool, {});
  assert.deepEqual(countBy(sequence(s, pool, 100)), { a1: 50, c1: 50 });
  const onlyC = pool.filter((t) => t.id !== "a1");
  assert.deepEqual(countBy(sequence(s, onlyC, 10)), { c1: 10 });
});

test("tiered sends everything to tier 2 once tier 1 is down, and to tier 3 after that", () => {
  const pool = makePool(specs);
  const s = createTiered(pool, {});
  const tier2up = pool.filter((t) => t.tier !== 1);
  assert.deepEqual(countBy(sequence(s, tier2up, 10)), { b2: 5, e2: 5 });
  assert.equal(s.status!().active_tier, 2);
  assert.deepEqual(countBy(sequence(s, [pool[3]!], 3)), { d3: 3 });
  assert.deepEqual(countBy(sequence(s, pool, 4)), { a1: 2, c1: 2 }, "back to tier 1 as soon as it returns");
});

test("tiered uses the configured strategy within the tier", () => {
  const pool = makePool(specs);
  const s = createTiered(pool, { within: "weighted" });
  assert.deepEqual(sequence(s, pool, 8), ["a1", "a1", "c1", "a1", "a1", "a1", "c1", "a1"]);
  assert.deepEqual(s.targetStatus!(pool[0]!), { tier: 1, weight: 3, current_weight: 0 });
});

test("tiered falls back to rotation within the tier when the inner strategy cannot decide", () => {
  const pool = makePool(specs); // no costs anywhere: cost cannot decide
  const s = createTiered(pool, { within: "cost" });
  assert.deepEqual(countBy(sequence(s, pool, 10)), { a1: 5, c1: 5 });
});

test("tiered names bad options, including the inner strategy's", () => {
  const pool = makePool(specs);
  assert.throws(() => createTiered(pool, { within: "tiered" }), { message: "strategy_options.tiered.within: must not be tiered" });
  assert.throws(() => createTiered(pool, { within: "fastest" }), /strategy_options\.tiered\.within: must be one of/);
  assert.throws(() => createTiered(pool, { within: "latency", within_options: { half_life_s: -1 } }), {
    message: "strategy_options.tiered.within_options.half_life_s: must be > 0",
  });
  assert.ok(createTiered(pool, {}).pick([], makeCtx()) === undefined);
});
