import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffSchema } from "../../src/config/resilience-schema.ts";
import { createBackoff, exponentialBackoff } from "../../src/resilience/backoff.ts";

const cfg = (o: Record<string, unknown>) => backoffSchema.parse(o);
const series = (b: { delay(n: number): number }, n: number) => Array.from({ length: n }, (_, i) => b.delay(i + 1));

test("curves without jitter: fixed, linear, exponential, fibonacci, each capped", () => {
  assert.deepEqual(series(createBackoff(cfg({ kind: "fixed", base_ms: 100, jitter: "none" })), 4), [100, 100, 100, 100]);
  assert.deepEqual(series(createBackoff(cfg({ kind: "linear", base_ms: 100, jitter: "none" })), 4), [100, 200, 300, 400]);
  assert.deepEqual(
    series(createBackoff(cfg({ kind: "exponential", base_ms: 100, max_ms: 1000, jitter: "none" })), 6),
    [100, 200, 400, 800, 1000, 1000],
  );
  assert.deepEqual(
    series(createBackoff(cfg({ kind: "exponential", base_ms: 100, factor: 3, max_ms: 10_000, jitter: "none" })), 3),
    [100, 300, 900],
  );
  assert.deepEqual(
    series(createBackoff(cfg({ kind: "fibonacci", base_ms: 10, max_ms: 10_000, jitter: "none" })), 6),
    [10, 20, 30, 50, 80, 130],
  );
  assert.equal(createBackoff(cfg({ kind: "fibonacci", base_ms: 10, max_ms: 5000, jitter: "none" })).delay(500), 5000);
});

test("full jitter spans [0, t), equal jitter [t/2, t], with an injected random", () => {
  const exp = { kind: "exponential", base_ms: 100, max_ms: 2000 };
  assert.equal(createBackoff(cfg({ ...exp, jitter: "full" }), () => 0).delay(3), 0);
  assert.equal(createBackoff(cfg({ ...exp, jitter: "full" }), () => 0.5).delay(3), 200);
  assert.equal(createBackoff(cfg({ ...exp, jitter: "full" }), () => 0.999).delay(10), 1998, "capped before jitter");
  assert.equal(createBackoff(cfg({ ...exp, jitter: "equal" }), () => 0).delay(3), 200);
  assert.equal(createBackoff(cfg({ ...exp, jitter: "equal" }), () => 1).delay(3), 400);
});

test("decorrelated jitter: random(base, prev·3) capped, from the instance's prev or the caller's", () => {
  const b = createBackoff(cfg({ base_ms: 100, max_ms: 1000, jitter: "decorrelated" }), () => 1);
  assert.deepEqual(series(b, 4), [300, 900, 1000, 1000]);
  assert.equal(b.delay(1), 300, "attempt 1 starts a new sequence from base");
  const low = createBackoff(cfg({ base_ms: 100, max_ms: 1000, jitter: "decorrelated" }), () => 0);
  assert.equal(low.delay(2, 500), 100, "never below base");
  const shared = createBackoff(cfg({ base_ms: 100, max_ms: 10_000, jitter: "decorrelated" }), () => 1);
  assert.equal(shared.delay(2, 200), 600, "a caller-held prev makes a shared instance stateless");
});

test("the breaker's open wait: 60 → 120 → 240 → 300 s", () => {
  assert.deepEqual(series(exponentialBackoff(60_000, 300_000), 5), [60_000, 120_000, 240_000, 300_000, 300_000]);
});
