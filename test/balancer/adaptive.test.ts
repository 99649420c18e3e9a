import { test } from "node:test";
import assert from "node:assert/strict";
import { createAdaptive } from "../../src/balancer/adaptive.js";
import { FakeClock, makePool, simulate } from "./fixtures.js";
import { countBy } from "../helpers/count.js";

const BEFORE: Record<string, number> = { t0: 200, t1: 10, t2: 50 };
const AFTER: Record<string, number> = { t0: 10, t1: 200, t2: 50 };

function share(ids: string[], from: number, to: number, id: string): number {
  return (countBy(ids.slice(from, to))[id] ?? 0) / (to - from);
}

test("adaptive converges to the best of three targets and re-converges after they swap", () => {
  for (const concurrency of [1, 8]) {
    const pool = makePool([{}, {}, {}]);
    const clock = new FakeClock();
    const ids = simulate(createAdaptive(pool, { seed: 5 }), pool, clock, {
      requests: 4000,
      concurrency,
      latencyOf: (t, n) => (n < 2000 ? BEFORE : AFTER)[t.id]!,
    });
    assert.ok(
      share(ids, 1500, 2000, "t1") >= 0.9,
      `concurrency ${concurrency}: before the swap ${JSON.stringify(countBy(ids.slice(1500, 2000)))}`,
    );
    assert.ok(
      share(ids, 3500, 4000, "t0") >= 0.9,
      `concurrency ${concurrency}: after the swap ${JSON.stringify(countBy(ids.slice(3500, 4000)))}`,
    );
    // It keeps exploring a little: the others are not starved forever.
    assert.ok(share(ids, 1500, 2000, "t0") > 0 && share(ids, 1500, 2000, "t2") > 0);
  }
});

test("adaptive prefers a reliable target over a fast one that fails most of the time", () => {
  const pool = makePool([{}, {}]);
  const clock = new FakeClock();
  // t0: 10 ms but 3 calls in 4 fail; t1: 50 ms, always fine. Reward ≈ 0.6·0.25+0.3+0.1 = 0.55 vs 0.6+0.06+0.1 = 0.76.
  const ids = simulate(createAdaptive(pool, { seed: 6 }), pool, clock, {
    requests: 3000,
    concurrency: 4,
    latencyOf: (t, n) => (t.id === "t0" ? (n % 4 ? -10 : 10) : 50),
  });
  assert.ok(share(ids, 2000, 3000, "t1") >= 0.8, JSON.stringify(countBy(ids.slice(2000, 3000))));
});

test("adaptive weighs cost when told to", () => {
  const pool = makePool([{ cost: { input_per_1k: 10, output_per_1k: 10 } }, { cost: { input_per_1k: 1, output_per_1k: 1 } }]);
  const clock = new FakeClock();
  const ids = simulate(createAdaptive(pool, { seed: 7, weights: { success: 0.2, latency: 0.2, cost: 0.6 } }), pool, clock, {
    requests: 2000,
    concurrency: 4,
    latencyOf: (t) => (t.id === "t0" ? 10 : 30), // t0 faster but ten times dearer
  });
  assert.ok(share(ids, 1000, 2000, "t1") >= 0.8, JSON.stringify(countBy(ids.slice(1000, 2000))));
});

test("adaptive shows its posteriors and names bad options", () => {
  const pool = makePool([{}, {}]);
  const s = createAdaptive(pool, { seed: 1 });
  simulate(s, pool, new FakeClock(), { requests: 300, concurrency: 1, latencyOf: (t) => (t.id === "t0" ? 10 : 40) });
  const st = s.targetStatus!(pool[0]!);
  assert.equal(st.mean_latency_ms, 10);
  assert.equal(st.success_rate, 1);
  assert.ok((st.samples as number) > 50);
  assert.equal(s.status!().method, "thompson");
  assert.throws(() => createAdaptive(pool, { half_life: 0 }), { message: "strategy_options.adaptive.half_life: must be > 0" });
  assert.throws(() => createAdaptive(pool, { weights: { success: 0, latency: 0, cost: 0 } }), {
    message: "strategy_options.adaptive.weights: must not all be 0",
  });
});
