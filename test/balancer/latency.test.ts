import { test } from "node:test";
import assert from "node:assert/strict";
import { createLatency, type PeakEwma } from "../../src/balancer/latency.js";
import { FakeClock, finish, makeCtx, makePool, simulate } from "./fixtures.js";
import { countBy } from "../helpers/count.js";

const LATENCIES: Record<string, number> = { t0: 200, t1: 10, t2: 50 };

test("latency sends at least 80% of 2,000 calls to the fastest of 10/50/200 ms targets", () => {
  for (const concurrency of [1, 16, 64]) {
    const pool = makePool([{}, {}, {}]);
    const clock = new FakeClock();
    const ids = simulate(createLatency(pool, {}, clock), pool, clock, { requests: 2000, concurrency, latencyOf: (t) => LATENCIES[t.id]! });
    const share = countBy(ids).t1! / 2000;
    assert.ok(share >= 0.8, `concurrency ${concurrency}: fastest got ${share}`);
  }
});

test("latency shifts away within 200 calls when the fast target turns slow", () => {
  const pool = makePool([{}, {}, {}]);
  const clock = new FakeClock();
  const ids = simulate(createLatency(pool, {}, clock), pool, clock, {
    requests: 3000,
    concurrency: 16,
    latencyOf: (t, n) => (t.id === "t1" && n >= 1000 ? 400 : LATENCIES[t.id]!),
  });
  const after = ids.slice(1200, 3000);
  const share = countBy(after);
  assert.ok((share.t2 ?? 0) / after.length >= 0.8, `after the shift: ${JSON.stringify(share)}`);
  assert.ok((countBy(ids.slice(1000, 1200)).t1 ?? 0) < 100, "the slow target kept most traffic for 200 calls");
});

test("latency recovers a target once its peak has decayed (half-life)", () => {
  const pool = makePool([{}, {}]);
  const clock = new FakeClock();
  const s = createLatency(pool, { half_life_s: 1 }, clock);
  const [a, b] = pool as [(typeof pool)[0], (typeof pool)[0]];
  a.stats.onStart(clock.t);
  finish(s, a, "ok", 800, clock.t); // one slow peak on a
  b.stats.onStart(clock.t);
  finish(s, b, "ok", 100, clock.t);
  assert.equal(s.pick(pool, makeCtx()), b);
  // b keeps being observed at 100 ms; a's peak decays unobserved: 800 · 2^(−t/1 s) < 100 once t > 3 s.
  for (let step = 0; step < 40 && s.pick(pool, makeCtx()) === b; step++) {
    clock.t += 100;
    b.stats.onStart(clock.t);
    finish(s, b, "ok", 100, clock.t);
  }
  assert.equal(s.pick(pool, makeCtx()), a);
  assert.ok(clock.t - 1000 > 2500 && clock.t - 1000 < 3500, `recovered after ${clock.t - 1000} ms`);
});

test("latency jumps to a peak at once and weighs in-flight calls", () => {
  const pool = makePool([{}, {}]);
  const clock = new FakeClock();
  const s = createLatency(pool, {}, clock);
  const peak = s as PeakEwma;
  const [a, b] = pool as [(typeof pool)[0], (typeof pool)[0]];
  for (const [t, ms] of [
    [a, 10],
    [b, 30],
  ] as const) {
    t.stats.onStart(clock.t);
    finish(s, t, "ok", ms, clock.t);
  }
  assert.equal(s.pick(pool, makeCtx()), a);
  a.stats.inFlight = 3; // 10 × 4 = 40 > 30 × 1
  assert.equal(s.pick(pool, makeCtx()), b);
  a.stats.inFlight = 0;
  a.stats.onStart(clock.t);
  finish(s, a, "ok", 90, clock.t);
  assert.equal(Math.round(peak.costNow(a)), 90);
  assert.equal(s.pick(pool, makeCtx()), b);
});

test("latency probes each untried target once, one probe at a time", () => {
  const pool = makePool([{}, {}, {}]);
  const clock = new FakeClock();
  const s = createLatency(pool, {}, clock);
  const [a, b, c] = pool as [(typeof pool)[0], (typeof pool)[0], (typeof pool)[0]];
  a.stats.onStart(clock.t);
  finish(s, a, "ok", 5, clock.t);
  const first = s.pick(pool, makeCtx())!;
  assert.ok(first === b || first === c, "an untried target gets a probe even though a is fast");
  first.stats.onStart(clock.t);
  const second = s.pick(pool, makeCtx())!;
  assert.ok(second !== first && second !== a, "the other untried target gets its probe too");
  second.stats.onStart(clock.t);
  assert.equal(s.pick(pool, makeCtx()), a, "no second probe while both probes run");
});

test("latency cold_start fallback leaves the first pick to the route's fallback", () => {
  const pool = makePool([{}, {}]);
  const clock = new FakeClock();
  assert.equal(createLatency(pool, { cold_start: "fallback" }, clock).pick(pool, makeCtx()), undefined);
  assert.notEqual(createLatency(pool, {}, clock).pick(pool, makeCtx()), undefined);
});

test("latency counts a fast failure as the failure penalty", () => {
  const pool = makePool([{}, {}]);
  const clock = new FakeClock();
  const s = createLatency(pool, { failure_penalty_ms: 500 }, clock);
  const peak = s as PeakEwma;
  const [a, b] = pool as [(typeof pool)[0], (typeof pool)[0]];
  a.stats.onStart(clock.t);
  finish(s, a, "connection_failure", 1, clock.t);
  b.stats.onStart(clock.t);
  finish(s, b, "ok", 200, clock.t);
  assert.equal(Math.round(peak.costNow(a)), 500);
  assert.equal(s.pick(pool, makeCtx()), b);
  assert.deepEqual(s.targetStatus!(b), { ewma_ms: 200, in_flight: 0, load: 200 });
});

test("latency names bad options", () => {
  const pool = makePool([{}]);
  assert.throws(() => createLatency(pool, { half_life_s: 0 }), { message: "strategy_options.latency.half_life_s: must be > 0" });
  assert.throws(() => createLatency(pool, { cold_start: "wait" }), {
    message: "strategy_options.latency.cold_start: must be probe or fallback",
  });
});
