import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLeastRecentlyUsed } from "../../src/balancer/least-recently-used.js";
import { FakeClock, finish, makeCtx, makePool } from "./fixtures.js";
import type { Target } from "../../src/core/target.js";

test("least-recently-used takes never-used keys first, then the one idle longest", () => {
  const pool = makePool([{}, {}, {}]);
  const clock = new FakeClock();
  const s = createLeastRecentlyUsed(pool, { window_s: 1 }, clock);
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) {
    const t = s.pick(pool, makeCtx())!;
    t.stats.onStart(clock.t);
    clock.t += 10;
    finish(s, t, "ok", 10, clock.t);
    seen.push(t.id);
  }
  assert.deepEqual(seen, ["t0", "t1", "t2", "t0", "t1", "t2"]);
});

test("least-recently-used never reuses a key inside its window while another key has rested", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 6 }),
      fc.array(
        fc.record({
          gap: fc.integer({ min: 0, max: 400 }),
          duration: fc.integer({ min: 1, max: 300 }),
          eligibleMask: fc.integer({ min: 1, max: 63 }),
        }),
        { minLength: 1, maxLength: 80 },
      ),
      (size, steps) => {
        const pool = makePool(Array.from({ length: size }, () => ({})));
        const clock = new FakeClock();
        const windowMs = 500;
        const s = createLeastRecentlyUsed(pool, { window_s: windowMs / 1000 }, clock);
        const lastUse = new Map<Target, number>(); // end of the last call, or its start while running
        const running: { t: Target; end: number }[] = [];
        for (const step of steps) {
          clock.t += step.gap;
          for (let i = running.length - 1; i >= 0; i--) {
            if (running[i]!.end > clock.t) continue;
            const { t, end } = running.splice(i, 1)[0]!;
            const now = clock.t;
            clock.t = end;
            finish(s, t, "ok", 1, end);
            clock.t = now;
            lastUse.set(t, Math.max(end, lastUse.get(t) ?? -Infinity));
          }
          let eligible = pool.filter((_, i) => step.eligibleMask & (1 << i));
          if (eligible.length === 0) eligible = pool;
          const rested = (t: Target) => t.stats.inFlight === 0 && clock.t - (lastUse.get(t) ?? -Infinity) >= windowMs;
          const anyRested = eligible.some(rested);
          const t = s.pick(eligible, makeCtx())!;
          assert.ok(eligible.includes(t));
          if (anyRested)
            assert.ok(rested(t), `picked ${t.id}, used ${clock.t - (lastUse.get(t) ?? 0)} ms ago, while another key had rested`);
          t.stats.onStart(clock.t);
          lastUse.set(t, clock.t);
          running.push({ t, end: clock.t + step.duration });
        }
      },
    ),
    { numRuns: 300, seed: 11 },
  );
});

test("least-recently-used skips a key with a call in flight", () => {
  const pool = makePool([{}, {}]);
  const clock = new FakeClock();
  const s = createLeastRecentlyUsed(pool, { window_s: 0 }, clock);
  const a = s.pick(pool, makeCtx())!;
  a.stats.onStart(clock.t); // long call, still running
  const b = s.pick(pool, makeCtx())!;
  b.stats.onStart(clock.t);
  clock.t += 50;
  finish(s, b, "ok", 50, clock.t);
  clock.t += 1000;
  assert.equal(s.pick(pool, makeCtx()), b, "a has been busy, not resting");
});

test("least-recently-used with none_rested: fallback hands over when every key was used within the window", () => {
  const pool = makePool([{}, {}]);
  const clock = new FakeClock();
  const s = createLeastRecentlyUsed(pool, { window_s: 60, none_rested: "fallback" }, clock);
  for (let i = 0; i < 2; i++) {
    const t = s.pick(pool, makeCtx())!;
    t.stats.onStart(clock.t);
    finish(s, t, "ok", 1, clock.t);
  }
  clock.t += 30_000;
  assert.equal(s.pick(pool, makeCtx()), undefined);
  assert.equal(s.targetStatus!(pool[0]!).rested, false);
  clock.t += 30_000;
  assert.notEqual(s.pick(pool, makeCtx()), undefined);
});

test("least-recently-used names bad options", () => {
  assert.throws(() => createLeastRecentlyUsed(makePool([{}]), { window_s: -1 }), {
    message: "strategy_options.least-recently-used.window_s: must be >= 0",
  });
});
