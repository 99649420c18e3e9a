import { test } from "node:test";
import assert from "node:assert/strict";
import { breakerSchema } from "../../src/config/resilience-schema.ts";
import { CircuitBreaker } from "../../src/resilience/circuit-breaker.ts";
import { BreakerPolicy } from "../../src/resilience/breaker-policy.ts";
import { PolicyList } from "../../src/resilience/policy-list.ts";
import { MemoryStore } from "../../src/state/memory-store.ts";
import { makePool } from "../balancer/fixtures.ts";

const T0 = 1_700_000_000_000;
const make = (o: Record<string, unknown> = {}) => new CircuitBreaker(breakerSchema.parse(o), "r/t0");
const fail = (b: CircuitBreaker, n: number, now = T0, kind: "server_error" | "timeout" = "server_error") => {
  for (let i = 0; i < n; i++) b.onResult(kind, 10, now);
};

test("opens exactly at the 5th consecutive failure, not the 4th", () => {
  const b = make();
  fail(b, 4);
  assert.equal(b.state, "closed");
  assert.equal(b.tryAcquire(T0), true);
  fail(b, 1);
  assert.equal(b.state, "open");
  assert.equal(b.openUntil, T0 + 60_000);
  assert.equal(b.tryAcquire(T0 + 59_999), false);
});

test("a success in between resets the consecutive count", () => {
  const b = make();
  fail(b, 4);
  b.onResult("ok", 10, T0);
  fail(b, 4);
  assert.equal(b.state, "closed");
});

test("429s neither open the breaker nor reset the failure streak; client errors count as answers", () => {
  const b = make();
  for (let i = 0; i < 50; i++) b.onResult("rate_limited", 10, T0);
  assert.equal(b.state, "closed");
  fail(b, 4);
  b.onResult("rate_limited", 10, T0);
  fail(b, 1);
  assert.equal(b.state, "open");
  const c = make();
  fail(c, 4);
  c.onResult("client_error", 10, T0);
  fail(c, 4);
  assert.equal(c.state, "closed");
});

test("failure rate ≥ 50 % opens only after min_calls", () => {
  const b = make({ failure_threshold: 0 });
  for (let i = 0; i < 9; i++) {
    b.onResult("ok", 10, T0);
    b.onResult("server_error", 10, T0);
  }
  b.onResult("ok", 10, T0);
  assert.equal(b.state, "closed", "19 calls < min_calls 20");
  b.onResult("server_error", 10, T0);
  assert.equal(b.state, "open", "10 of 20 = 50 %");
});

test("failure rate below the threshold keeps it closed", () => {
  const b = make({ failure_threshold: 0 });
  for (let i = 0; i < 100; i++) b.onResult(i % 3 === 0 ? "timeout" : "ok", 10, T0 + i * 100);
  assert.equal(b.state, "closed");
});

test("the time window forgets old failures", () => {
  const b = make({ failure_threshold: 0, window_s: 30 });
  for (let i = 0; i < 15; i++) b.onResult("server_error", 10, T0);
  for (let i = 0; i < 15; i++) b.onResult("ok", 10, T0 + 31_000);
  assert.equal(b.state, "closed", "old failures expired: 0 of 15 now");
});

test("count window: rate over the last N calls", () => {
  const b = make({ failure_threshold: 0, window: "count", window_calls: 10, min_calls: 10 });
  for (let i = 0; i < 100; i++) b.onResult("ok", 10, T0);
  for (let i = 0; i < 4; i++) b.onResult("server_error", 10, T0);
  assert.equal(b.state, "closed");
  b.onResult("server_error", 10, T0);
  assert.equal(b.state, "open", "5 of the last 10");
});

test("slow-call rate opens with zero errors, and only when slow_call_ms is set", () => {
  const b = make({ slow_call_ms: 1000 });
  for (let i = 0; i < 15; i++) b.onResult("ok", 5000, T0);
  for (let i = 0; i < 4; i++) b.onResult("ok", 10, T0);
  assert.equal(b.state, "closed", "19 calls < min_calls");
  b.onResult("ok", 5000, T0);
  assert.equal(b.state, "open", "16 of 20 slow = 80 %");
  const events: string[] = [];
  const c = make();
  c.onTransition((from, to, reason) => events.push(`${from}>${to}:${reason}`));
  for (let i = 0; i < 100; i++) c.onResult("ok", 60_000, T0);
  assert.equal(c.state, "closed", "no slow_call_ms, no slow trigger");
  assert.deepEqual(events, []);
});

test("half-open admits exactly half_open_calls probes; success_threshold successes close it", () => {
  const b = make();
  const events: string[] = [];
  b.onTransition((from, to, reason, name) => events.push(`${name} ${from}>${to}:${reason}`));
  fail(b, 5);
  const t = T0 + 60_000;
  assert.equal(b.tryAcquire(t), true);
  assert.equal(b.state, "half_open");
  assert.equal(b.tryAcquire(t), true);
  assert.equal(b.tryAcquire(t), true);
  assert.equal(b.tryAcquire(t), false, "4th probe refused");
  b.onResult("ok", 10, t);
  b.onResult("ok", 10, t);
  assert.equal(b.state, "half_open");
  b.onResult("ok", 10, t);
  assert.equal(b.state, "closed");
  assert.deepEqual(events, [
    "r/t0 closed>open:consecutive_failures",
    "r/t0 open>half_open:wait_elapsed",
    "r/t0 half_open>closed:probes_succeeded",
  ]);
});

test("release() frees an abandoned probe slot", () => {
  const b = make({ half_open_calls: 1 });
  fail(b, 5);
  const t = T0 + 60_000;
  assert.equal(b.tryAcquire(t), true);
  assert.equal(b.tryAcquire(t), false);
  b.release();
  assert.equal(b.tryAcquire(t), true);
});

test("a failed probe reopens with a longer wait: 60 → 120 → 240 → 300 s, reset after closing", () => {
  const b = make();
  fail(b, 5);
  let t = T0;
  const waits: number[] = [b.openUntil - t];
  for (let i = 0; i < 4; i++) {
    t = b.openUntil;
    assert.equal(b.tryAcquire(t), true);
    b.onResult("connection_failure", 10, t);
    assert.equal(b.state, "open");
    waits.push(b.openUntil - t);
  }
  assert.deepEqual(waits, [60_000, 120_000, 240_000, 300_000, 300_000]);
  t = b.openUntil;
  for (let i = 0; i < 3; i++) {
    b.tryAcquire(t);
    b.onResult("ok", 10, t);
  }
  assert.equal(b.state, "closed");
  fail(b, 5, t);
  assert.equal(b.openUntil - t, 60_000, "openings reset after closing");
});

test("a slow probe counts as failed", () => {
  const b = make({ slow_call_ms: 1000 });
  fail(b, 5);
  b.tryAcquire(T0 + 60_000);
  b.onResult("ok", 2000, T0 + 60_000);
  assert.equal(b.state, "open");
});

test("a call admitted before the breaker opened cannot decide its half-open verdict", () => {
  const b = make({ half_open_calls: 1, success_threshold: 1 });
  assert.equal(b.tryAcquire(T0), true);
  const longStream = b.epoch;
  fail(b, 5);
  const t = T0 + 60_000;
  assert.equal(b.tryAcquire(t), true);
  const probe = b.epoch;
  b.onResult("ok", 10, t, longStream);
  assert.equal(b.state, "half_open", "stale success ignored");
  assert.equal(b.tryAcquire(t), false, "and it did not free the probe's slot");
  b.release(longStream);
  assert.equal(b.tryAcquire(t), false);
  b.onResult("ok", 10, t, probe);
  assert.equal(b.state, "closed");
});

test("operator controls: forceOpen refuses, disable admits and ignores, reset closes", () => {
  const b = make();
  b.forceOpen();
  assert.equal(b.tryAcquire(T0 + 10 ** 9), false);
  b.disable();
  fail(b, 100);
  assert.equal(b.state, "disabled");
  assert.equal(b.tryAcquire(T0), true);
  b.reset();
  assert.equal(b.state, "closed");
  assert.equal(make({ enabled: false }).state, "disabled");
});

test("two breakers sharing a store act as one: an opening seen by either, with its openings count", () => {
  const store = new MemoryStore();
  const shared = (o: Record<string, unknown> = {}) => new CircuitBreaker(breakerSchema.parse(o), "r/t0", undefined, store);
  const a = shared();
  const b = shared();
  const seen: string[] = [];
  b.onTransition((_f, to, reason) => seen.push(`${to}:${reason}`));
  fail(a, 5);
  assert.deepEqual(store.snapshot()["breaker/r/t0"], { state: "open", open_until: T0 + 60_000, openings: 1 });
  assert.equal(b.state, "open", "the other process sees it open");
  assert.deepEqual(seen, ["open:shared"]);
  assert.equal(b.tryAcquire(T0 + 1000), false);
  assert.equal(b.tryAcquire(T0 + 60_000), true, "its wait is over: a probe");
  b.onResult("server_error", 1, T0 + 60_000);
  assert.equal(a.openUntil, T0 + 60_000 + 120_000, "reopened by b with the openings count, seen by a");
  b.reset(T0 + 200_000);
  fail(a, 4, T0 + 300_000);
  fail(b, 1, T0 + 300_000);
  assert.equal(a.state, "open", "4 failures in one process + 1 in the other = 5 in a row");
});

test("the breaker policy: eligibility asks without taking a probe slot; eligibleAt is openUntil", () => {
  const pool = makePool([{}, {}]);
  const policy = new BreakerPolicy({ name: "r", breaker: breakerSchema.parse({ half_open_calls: 1 }) }, pool, new MemoryStore());
  const list = new PolicyList([policy]);
  fail(policy.of(pool[0]!), 5);
  assert.equal(list.isEligible(pool[0]!, T0), false);
  assert.equal(list.isEligible(pool[1]!, T0), true);
  assert.equal(list.soonestEligibleAt([pool[0]!], T0), T0 + 60_000);
  const t = T0 + 60_000;
  for (let i = 0; i < 5; i++) assert.equal(list.isEligible(pool[0]!, t), true, "asking repeatedly takes nothing");
  assert.notEqual(list.admit(pool[0]!, t), -1);
  assert.equal(list.isEligible(pool[0]!, t), false, "the only probe slot is taken");
  assert.deepEqual(list.reasons(pool[0]!, t), ["breaker"]);
});

test("status shows the breaker as it is now: an open breaker whose wait is over reads half_open", () => {
  const b = make({ open_s: 1 });
  fail(b, 5);
  assert.equal(b.stats(T0 + 999).state, "open");
  assert.equal(b.stats(T0 + 1000).state, "half_open");
  assert.equal(b.stats(T0 + 1000).open_until, null);
});

test("a recovery probe answered ends the open wait at once; admin actions reach the breaker through the policy list", () => {
  const pool = makePool([{}]);
  const policy = new BreakerPolicy({ name: "r", breaker: breakerSchema.parse({}) }, pool, new MemoryStore());
  const list = new PolicyList([policy]);
  const b = policy.of(pool[0]!);
  fail(b, 5);
  assert.equal(b.state, "open");
  assert.equal(b.probeAnswered(T0 + 10), true);
  assert.equal(b.state, "half_open");
  assert.equal(b.tryAcquire(T0 + 10), true, "real calls test it at once, 59 s before its wait would have ended");
  list.act("open-breaker", pool[0]!, T0);
  assert.equal(b.state, "forced_open");
  list.act("reset-breaker", pool[0]!, T0);
  assert.equal(b.state, "closed");
  assert.throws(
    () => list.act("no-such-action", pool[0]!, T0),
    (e: { code?: string }) => e.code === "unknown_action",
  );
});
