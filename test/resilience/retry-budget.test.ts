import { test } from "node:test";
import assert from "node:assert/strict";
import { retryBudgetSchema } from "../../src/config/resilience-schema.ts";
import { RetryBudget } from "../../src/resilience/retry-budget.ts";

const T0 = 1_700_000_000_000;
const make = (o: Record<string, unknown> = {}) => new RetryBudget(retryBudgetSchema.parse(o));
const drain = (b: RetryBudget, now: number) => {
  let n = 0;
  while (b.tryRetry(now)) n++;
  return n;
};

test("allows 20 % of requests plus the floor, refuses beyond", () => {
  const b = make({ min_per_sec: 0 });
  for (let i = 0; i < 100; i++) b.onRequest(T0);
  assert.equal(drain(b, T0), 20);
  assert.equal(b.refused, 1);
  const f = make(); // + 10/s × 10 s floor
  for (let i = 0; i < 100; i++) f.onRequest(T0);
  assert.equal(f.available(T0), 120);
  assert.equal(drain(f, T0), 120);
});

test("the floor alone lets a quiet route retry min_per_sec × ttl", () => {
  const b = make({ min_per_sec: 1, ttl_s: 10 });
  assert.equal(drain(b, T0), 10);
});

test("requests and retries older than ttl stop counting", () => {
  const b = make({ min_per_sec: 0, ttl_s: 10 });
  for (let i = 0; i < 50; i++) b.onRequest(T0);
  assert.equal(drain(b, T0), 10);
  assert.equal(b.tryRetry(T0 + 9_000), false, "still inside the ttl");
  assert.equal(b.tryRetry(T0 + 10_000), false, "requests expired with the retries: nothing left");
  for (let i = 0; i < 50; i++) b.onRequest(T0 + 10_000);
  assert.equal(drain(b, T0 + 10_000), 10, "a fresh window");
  assert.deepEqual(b.toJSON(T0 + 10_000), { requests: 50, retries: 10, allowed: 10 });
});

test("disabled budget never refuses", () => {
  const b = make({ enabled: false, min_per_sec: 0 });
  for (let i = 0; i < 1000; i++) assert.equal(b.tryRetry(T0), true);
});
