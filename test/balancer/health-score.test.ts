import { test } from "node:test";
import assert from "node:assert/strict";
import { createHealth } from "../../src/balancer/health-score.js";
import { FakeClock, finish, makeCtx, makePool } from "./fixtures.js";
import { countBy } from "../helpers/count.js";
import type { Target } from "../../src/core/target.js";
import type { OutcomeKind } from "../../src/core/outcome.js";
import type { Strategy } from "../../src/balancer/strategy.js";

function feed(s: Strategy<Target>, t: Target, kind: OutcomeKind, latency: number, times: number, clock: FakeClock) {
  for (let i = 0; i < times; i++) {
    t.stats.onStart(clock.t);
    finish(s, t, kind, latency, clock.t);
  }
}

function picks(s: Strategy, eligible: readonly Target[], n: number): Record<string, number> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(s.pick(eligible, makeCtx())!.id);
  return countBy(ids);
}

test("health sends nothing to the bottom half and shares the top half by score", () => {
  const pool = makePool([{}, {}, {}, {}]);
  const clock = new FakeClock();
  const s = createHealth(pool, { seed: 1 }, clock);
  feed(s, pool[0]!, "ok", 100, 20, clock); // healthy, fast
  feed(s, pool[1]!, "ok", 200, 20, clock); // healthy, slower
  feed(s, pool[2]!, "server_error", 100, 20, clock); // answers, but with errors
  feed(s, pool[3]!, "connection_failure", 100, 20, clock); // down
  // score = 0.4·uptime + 0.3·(fastest/latency) + 0.2·(1 − error rate) + 0.1·(cheapest/cost), prior of one good call:
  const expected = [0.4 + 0.3 + 0.2 + 0.1, 0.4 + 0.15 + 0.2 + 0.1, 0.4 + 0.3 + 0.2 / 21 + 0.1, 0.4 / 21 + 0.3 + 0.2 / 21 + 0.1];
  pool.forEach((t, i) =>
    assert.ok(Math.abs((s.targetStatus!(t).score as number) - expected[i]!) < 0.002, `${t.id} ${JSON.stringify(s.targetStatus!(t))}`),
  );
  const counts = picks(s, pool, 4000);
  assert.deepEqual(Object.keys(counts).sort(), ["t0", "t1"]);
  // Weighted-random by score among the top two: 1.0 / 1.85 ≈ 54 %.
  assert.ok(Math.abs(counts.t0! / 4000 - 1 / 1.85) < 0.03, JSON.stringify(counts));
  const status = s.targetStatus!(pool[3]!);
  assert.equal(status.rank, 4);
  assert.ok((status.uptime as number) < 0.1);
});

test("health weights are configurable: cost alone decides when it is the only weight", () => {
  const pool = makePool([
    { cost: { input_per_1k: 1, output_per_1k: 1 } },
    { cost: { input_per_1k: 0.1, output_per_1k: 0.1 } },
    { cost: { input_per_1k: 5, output_per_1k: 5 } },
  ]);
  const clock = new FakeClock();
  const s = createHealth(pool, { seed: 2, weights: { uptime: 0, latency: 0, errors: 0, cost: 1 }, top_fraction: 0.3 }, clock);
  assert.deepEqual(picks(s, pool, 100), { t1: 100 });
});

test("health forgets old failures: a target left alone drifts back into the top half", () => {
  const pool = makePool([{}, {}]);
  const clock = new FakeClock();
  const s = createHealth(pool, { seed: 3, half_life_s: 10 }, clock);
  feed(s, pool[0]!, "timeout", 100, 30, clock);
  feed(s, pool[1]!, "ok", 100, 5, clock);
  assert.deepEqual(picks(s, pool, 50), { t1: 50 });
  clock.t += 120_000; // twelve half-lives
  feed(s, pool[1]!, "server_error", 100, 3, clock);
  assert.deepEqual(picks(s, pool, 50), { t0: 50 });
});

test("health never picks an ineligible target and ignores client errors", () => {
  const pool = makePool([{}, {}, {}]);
  const clock = new FakeClock();
  const s = createHealth(pool, { seed: 4 }, clock);
  feed(s, pool[0]!, "client_error", 50, 50, clock);
  assert.equal(s.targetStatus!(pool[0]!).error_rate, 0);
  const counts = picks(s, [pool[1]!, pool[2]!], 100);
  assert.equal(counts.t0, undefined);
});

test("health names bad options", () => {
  const pool = makePool([{}]);
  assert.throws(() => createHealth(pool, { weights: { uptime: -1 } }), { message: "strategy_options.health.weights.uptime: must be >= 0" });
  assert.throws(() => createHealth(pool, { weights: { speed: 1 } }), { message: "strategy_options.health.weights.speed: unknown option" });
  assert.throws(() => createHealth(pool, { top_fraction: 2 }), { message: "strategy_options.health.top_fraction: must be <= 1" });
});
