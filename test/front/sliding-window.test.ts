import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SlidingWindow } from "../../src/front/sliding-window.js";

/** Takes one at `now` when one is free; returns whether it did. */
function tryTake(w: SlidingWindow, now: number): boolean {
  if (w.remaining(now) === 0) return false;
  w.take(now);
  return true;
}

test("a sliding window lets its capacity through at once, then one per slot as each turns a window old", () => {
  const w = new SlidingWindow(3, 1000);
  assert.equal(w.remaining(0), 3);
  assert.ok(tryTake(w, 0));
  assert.ok(tryTake(w, 100));
  assert.ok(tryTake(w, 200));
  assert.ok(!tryTake(w, 999), "all three held within the window");
  assert.equal(w.waitMs(999), 1, "the first comes back at 1000");
  assert.equal(w.resetMs(999), 201, "the last at 1200");
  assert.ok(tryTake(w, 1000), "the one taken at 0 is back at exactly 1000");
  assert.ok(!tryTake(w, 1099));
  assert.ok(tryTake(w, 1100));
  assert.equal(w.remaining(5000), 3, "all back after a quiet window");
  assert.equal(w.resetMs(5000), 0);
});

test("a sliding window of 1000 per second admits exactly 1000 of a burst of 1500 within a second", () => {
  const w = new SlidingWindow(1000, 1000);
  let ok = 0;
  for (let i = 0; i < 1500; i++) if (tryTake(w, i * 0.6)) ok++;
  assert.equal(ok, 1000);
});

test("a sliding window of 50 per second hammered for 10 s admits exactly 500", () => {
  const w = new SlidingWindow(50, 1000);
  let ok = 0;
  // 20 clients retrying every 0.25 ms for 10 s.
  for (let t = 0; t < 10_000; t += 0.25) for (let c = 0; c < 20; c++) if (tryTake(w, t)) ok++;
  assert.equal(ok, 500);
});

test("a sliding window refuses take() past capacity (the caller must check first)", () => {
  const w = new SlidingWindow(1, 10);
  w.take(0);
  assert.throws(() => w.take(0), /full window/);
});

test("a sliding window never holds more than capacity admissions in any window", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 2000 }),
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 400 }),
      (capacity, windowMs, gaps) => {
        const w = new SlidingWindow(capacity, windowMs);
        const admitted: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const free = admitted.filter((t) => t + windowMs > now).length < capacity;
          assert.equal(tryTake(w, now), free, `at ${now}: the window and a recount agree`);
          if (free) admitted.push(now);
        }
      },
    ),
  );
});

test("a sliding window over 4096 units keeps bounded memory: never more than capacity in a window, each unit back at most 1/4096 of a window late", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 4097, max: 20_000 }),
      fc.array(fc.record({ gap: fc.double({ min: 0, max: 2, noNaN: true }), burst: fc.integer({ min: 1, max: 3000 }) }), { maxLength: 60 }),
      (capacity, steps) => {
        const windowMs = 1000;
        const grain = windowMs / 4096;
        const w = new SlidingWindow(capacity, windowMs);
        const admitted: number[] = [];
        // Admissions in (now - span, now]: `admitted` is in time order, so a binary search.
        const within = (now: number, span: number) => {
          let lo = 0;
          let hi = admitted.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (admitted[mid]! + span > now) hi = mid;
            else lo = mid + 1;
          }
          return admitted.length - lo;
        };
        let now = 0;
        for (const { gap, burst } of steps) {
          now += gap * 400;
          for (let i = 0; i < burst; i++) {
            const ok = tryTake(w, now);
            if (ok) {
              admitted.push(now);
              assert.ok(within(now, windowMs) <= capacity, "never over capacity in a window");
            } else assert.ok(within(now, windowMs + grain + 1e-9) >= capacity, "refused only while full within a window and a grain");
          }
        }
      },
    ),
    { numRuns: 40 },
  );
});
