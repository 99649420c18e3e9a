import { test } from "node:test";
import assert from "node:assert/strict";
import { WindowedStats } from "../../src/core/windowed-stats.js";

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);

test("a window holds what happened in it: counts, success rate, percentiles to 1 %, min and max", () => {
  const w = new WindowedStats(T0);
  for (let i = 1; i <= 100; i++) w.record(T0 + i * 100, i, i > 95);
  const s = w.snapshot("1m", T0 + 10_500);
  assert.equal(s.requests, 100);
  assert.equal(s.errors, 5);
  assert.equal(s.successRate, 0.95);
  assert.ok(s.latency !== null);
  assert.equal(s.latency.min, 1);
  assert.ok(Math.abs(s.latency.max - 100) <= 1, `max ${s.latency.max}`);
  assert.ok(Math.abs(s.latency.p50 - 50) <= 0.5, `p50 ${s.latency.p50}`);
  assert.ok(Math.abs(s.latency.p95 - 95) <= 1, `p95 ${s.latency.p95}`);
  assert.ok(Math.abs(s.latency.p99 - 99) <= 1, `p99 ${s.latency.p99}`);
});

test("old samples leave the short window but stay in the longer ones; an hour later all are gone", () => {
  const w = new WindowedStats(T0);
  for (let i = 0; i < 60; i++) w.record(T0 + i * 1000, 10, false); // one a second for a minute
  for (let i = 0; i < 10; i++) w.record(T0 + 240_000 + i * 1000, 500, true); // 10 slow failures at minute 4
  const at = T0 + 250_000;
  const m1 = w.snapshot("1m", at);
  assert.equal(m1.requests, 10);
  assert.equal(m1.errors, 10);
  assert.equal(m1.latency?.min, 500);
  const m5 = w.snapshot("5m", at);
  assert.equal(m5.requests, 70);
  assert.equal(m5.errors, 10);
  assert.equal(m5.latency?.min, 10);
  assert.equal(w.snapshot("1h", at).requests, 70);
  // an hour and a slot later nothing is left
  const later = T0 + 3_600_000 + 600_000;
  w.record(later, 1, false);
  assert.equal(w.snapshot("1h", later).requests, 1);
  assert.equal(w.snapshot("5m", later).requests, 1);
});

test("rps counts over the covered span, and the mean in flight integrates time", () => {
  const w = new WindowedStats(T0);
  // two attempts in flight for 10 s
  w.inFlightChanging(T0, 0);
  w.inFlightChanging(T0 + 1, 1);
  w.inFlightChanging(T0 + 10_001, 2);
  w.inFlightChanging(T0 + 10_002, 1);
  for (let i = 0; i < 30; i++) w.record(T0 + 20_000 + i * 1000, 5, false);
  const s = w.snapshot("1m", T0 + 55_000);
  assert.equal(s.requests, 30);
  assert.ok(s.rps > 0.45 && s.rps <= 1, `rps ${s.rps}`);
  assert.ok(s.meanInFlight > 0, `mean in flight ${s.meanInFlight}`);
});

test("route facts: failovers, their success rate and time, queue waits", () => {
  const w = new WindowedStats(T0);
  w.record(T0, 100, false, true, 40, 0);
  w.record(T0 + 1, 100, true, true, 60, 0);
  w.record(T0 + 2, 100, false, false, 0, 30);
  const s = w.snapshot("5m", T0 + 3);
  assert.equal(s.failovers, 2);
  assert.equal(s.failoverSuccesses, 1);
  assert.equal(s.failoverMeanMs, 50);
  assert.equal(s.queued, 1);
  assert.equal(s.queueWaitMaxMs, 30);
});
