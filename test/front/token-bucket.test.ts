import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TokenBucket } from "../../src/front/token-bucket.js";

const MINUTE = 60_000;

test("a token bucket starts full and takes what it is asked", () => {
  const b = new TokenBucket(1000, MINUTE, 0);
  assert.equal(b.available(0), 1000);
  b.take(600, 0);
  assert.equal(b.available(0), 400);
  assert.equal(b.waitMs(400, 0), 0);
  assert.equal(b.waitMs(500, 0), 6000, "100 tokens short at 1000/min: 6 s");
});

test("a token bucket refills continuously at capacity per period, never above capacity", () => {
  const b = new TokenBucket(600, MINUTE, 0);
  b.take(600, 0);
  assert.equal(b.available(0), 0);
  assert.equal(b.available(1000), 10, "600 a minute is 10 a second");
  assert.equal(b.available(30_500), 305);
  assert.equal(b.resetMs(30_500), 29_500);
  assert.equal(b.available(10 * MINUTE), 600, "capped at capacity");
  assert.equal(b.resetMs(10 * MINUTE), 0);
});

test("a token bucket gives back an over-estimate and takes more for an under-estimate, debt included", () => {
  const b = new TokenBucket(100, MINUTE, 0);
  b.take(80, 0);
  b.adjust(80 - 30, 0); // used 30 of the 80 estimated
  assert.equal(b.available(0), 70);
  b.take(60, 0);
  b.adjust(60 - 100, 0); // used 100 of the 60 estimated
  assert.equal(b.available(0), -30, "in debt");
  assert.equal(b.waitMs(10, 0), 24_000, "40 tokens to refill at 100/min");
  b.adjust(1000, 0);
  assert.equal(b.available(0), 100, "a refund never overfills");
});

test("a token bucket ignores a clock that goes backwards", () => {
  const b = new TokenBucket(60, MINUTE, 5000);
  b.take(60, 5000);
  assert.equal(b.available(4000), 0);
  assert.equal(b.available(6000), 1);
});

test("a token bucket never admits more than capacity plus the refill of the elapsed time", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10_000 }),
      fc.array(fc.record({ dt: fc.integer({ min: 0, max: 5000 }), n: fc.integer({ min: 1, max: 500 }) }), { maxLength: 200 }),
      (capacity, steps) => {
        const b = new TokenBucket(capacity, MINUTE, 0);
        let now = 0;
        let taken = 0;
        for (const { dt, n } of steps) {
          now += dt;
          if (b.available(now) >= n) {
            b.take(n, now);
            taken += n;
          }
        }
        assert.ok(taken <= capacity + (now * capacity) / MINUTE + 1e-6, `${taken} taken in ${now} ms`);
      },
    ),
  );
});
