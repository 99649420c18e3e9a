import { test } from "node:test";
import assert from "node:assert/strict";
import { createP2C } from "../../src/balancer/p2c.js";
import { createWeightedRandom } from "../../src/balancer/weighted-random.js";
import type { Strategy } from "../../src/balancer/strategy.js";
import type { Target } from "../../src/core/target.js";
import { FakeClock, makeCtx, makePool, simulate } from "./fixtures.js";
import { countBy } from "../helpers/count.js";

test("p2c with two targets always takes the less loaded one", () => {
  const pool = makePool([{}, {}]);
  const s = createP2C(pool, { seed: 1 });
  pool[0]!.stats.inFlight = 5;
  pool[1]!.stats.inFlight = 2;
  for (let i = 0; i < 50; i++) assert.equal(s.pick(pool, makeCtx())!.id, "t1");
});

test("p2c never picks the single most loaded target (its rival is always lighter)", () => {
  const pool = makePool([{}, {}, {}, {}, {}, {}]);
  const s = createP2C(pool, { seed: 3 });
  pool.forEach((t, i) => (t.stats.inFlight = i));
  const counts: Record<string, number> = {};
  for (let i = 0; i < 3000; i++) {
    const id = s.pick(pool, makeCtx())!.id;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  assert.equal(counts.t5, undefined);
  // The least loaded wins whenever it is drawn: 2 of 6 draws hold it → 1/3 of picks.
  assert.ok(Math.abs(counts.t0! / 3000 - 1 / 3) < 0.04, `t0 ${counts.t0}`);
});

/** The widest in-flight spread seen over a 64-client run with uneven latencies. */
function widestSpread(make: (pool: ReturnType<typeof makePool>) => Strategy<Target>): number {
  const pool = makePool([{}, {}, {}, {}]);
  let widest = 0;
  simulate(make(pool), pool, new FakeClock(), {
    requests: 4000,
    concurrency: 64,
    latencyOf: (_t, n) => 10 + ((n * 7919) % 21),
    onPick: () => {
      const f = pool.map((t) => t.stats.inFlight);
      widest = Math.max(widest, Math.max(...f) - Math.min(...f));
    },
  });
  return widest;
}

test("p2c keeps load balanced under concurrency (far tighter than random) and weighs by weight", () => {
  const p2c = widestSpread((pool) => createP2C(pool, { seed: 9 }));
  const random = widestSpread((pool) => createWeightedRandom(pool, { seed: 9 }));
  assert.ok(p2c <= 10 && p2c * 2 <= random, `p2c spread ${p2c}, random spread ${random}`);

  const weighted = makePool([{ weight: 3 }, { weight: 1 }]);
  const ids = simulate(createP2C(weighted, { seed: 2 }), weighted, new FakeClock(), {
    requests: 4000,
    concurrency: 16,
    latencyOf: () => 10,
  });
  const c = countBy(ids);
  assert.ok(c.t0! / 4000 > 0.7, `weight 3 target got ${c.t0}`);
});

test("p2c names a bad bias", () => {
  assert.throws(() => createP2C(makePool([{}]), { bias: 0 }), { message: "strategy_options.p2c.bias: must be > 0" });
});
