import { test } from "node:test";
import assert from "node:assert/strict";
import { createQuality } from "../../src/balancer/quality.js";
import { makeCtx, makePool } from "./fixtures.js";

test("quality picks the highest quality target", () => {
  const pool = makePool([{ quality: 0.7 }, { quality: 0.9 }, { quality: 0.8 }]);
  const s = createQuality(pool, {});
  for (let i = 0; i < 4; i++) assert.equal(s.pick(pool, makeCtx())!.id, "t1");
  assert.equal(s.pick([pool[0]!, pool[2]!], makeCtx())!.id, "t2", "the best eligible one when the best is out");
});

test("quality breaks ties by the request's estimated cost, then latency, then rotation", () => {
  const pool = makePool([
    { quality: 0.9, cost: { input_per_1k: 5, output_per_1k: 5 } },
    { quality: 0.9, cost: { input_per_1k: 1, output_per_1k: 2 } },
    { quality: 0.5, cost: { input_per_1k: 0.1, output_per_1k: 0.1 } },
    { quality: 0.9, cost: { input_per_1k: 1, output_per_1k: 2 } },
  ]);
  const s = createQuality(pool, {});
  pool[1]!.stats.latencyEwmaMs = 300;
  pool[3]!.stats.latencyEwmaMs = 100;
  for (let i = 0; i < 4; i++) assert.equal(s.pick(pool, makeCtx())!.id, "t3");
  pool[3]!.stats.latencyEwmaMs = 300;
  const ids = new Set([0, 1, 2, 3].map(() => s.pick(pool, makeCtx())!.id));
  assert.deepEqual(ids, new Set(["t1", "t3"]));
});

test("quality is undecided when nobody scored the targets", () => {
  const pool = makePool([{}, {}]);
  assert.equal(createQuality(pool, {}).pick(pool, makeCtx()), undefined);
  assert.throws(() => createQuality(pool, { prefer: "x" }), { message: "strategy_options.quality.prefer: unknown option" });
});
