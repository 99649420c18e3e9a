import { test } from "node:test";
import assert from "node:assert/strict";
import { CountWindow, TimeWindow } from "../../src/resilience/sliding-window.ts";

test("count window keeps exactly the last N outcomes", () => {
  const w = new CountWindow(3);
  w.record(true, false);
  w.record(true, true);
  w.record(false, true);
  assert.deepEqual([w.calls(), w.failures(), w.slowCalls()], [3, 2, 2]);
  w.record(false, false); // evicts the first (failed)
  assert.deepEqual([w.calls(), w.failures(), w.slowCalls()], [3, 1, 2]);
  w.record(false, false); // evicts failed+slow
  w.record(false, false); // evicts slow
  assert.deepEqual([w.calls(), w.failures(), w.slowCalls()], [3, 0, 0]);
  w.reset();
  assert.equal(w.calls(), 0);
});

test("time window forgets buckets older than N seconds", () => {
  const w = new TimeWindow(3);
  const t0 = 1_000_000;
  w.record(true, false, t0);
  w.record(false, true, t0 + 1000);
  w.record(true, true, t0 + 2000);
  assert.deepEqual([w.calls(t0 + 2999), w.failures(t0 + 2999), w.slowCalls(t0 + 2999)], [3, 2, 2]);
  assert.deepEqual([w.calls(t0 + 3000), w.failures(t0 + 3000), w.slowCalls(t0 + 3000)], [2, 1, 2], "the t0 bucket expired");
  assert.equal(w.calls(t0 + 5000), 0, "all expired");
  w.record(true, false, t0 + 100_000); // a long gap clears every bucket once
  assert.deepEqual([w.calls(t0 + 100_000), w.failures(t0 + 100_000)], [1, 1]);
});

test("time window: a clock stepping back writes into the newest bucket", () => {
  const w = new TimeWindow(2);
  w.record(false, false, 10_000);
  w.record(true, false, 9_000);
  assert.deepEqual([w.calls(10_000), w.failures(10_000)], [2, 1]);
  assert.equal(w.calls(12_000), 0);
});
