import { test } from "node:test";
import assert from "node:assert/strict";
import {
  backoffSchema,
  breakerSchema,
  healthCheckSchema,
  hedgeSchema,
  keyDisableSchema,
  mergePolicy,
  overrideOf,
  queueSchema,
  rateLimitAwarenessSchema,
  retryBudgetSchema,
  retryPolicySchema,
  slowStartSchema,
} from "../../src/config/resilience-schema.ts";

test("breaker defaults: 5 consecutive, 3 to close, 60 s open growing to 300 s, 30 s window, 20 min calls, 50 %", () => {
  const b = breakerSchema.parse({});
  assert.equal(b.failure_threshold, 5);
  assert.equal(b.success_threshold, 3);
  assert.equal(b.half_open_calls, 3);
  assert.equal(b.open_s, 60);
  assert.equal(b.max_open_s, 300);
  assert.equal(b.window, "time");
  assert.equal(b.window_s, 30);
  assert.equal(b.min_calls, 20);
  assert.equal(b.failure_rate, 0.5);
  assert.equal(b.slow_call_ms, undefined, "slow-call trigger is off until a threshold is configured");
  assert.equal(b.slow_call_rate, 0.8);
});

test("retry defaults: 3 attempts, retry on every target failure, exponential 100 ms..2 s full jitter, 20 % budget + 10/s over 10 s", () => {
  const r = retryPolicySchema.parse({});
  assert.equal(r.attempts, 3);
  assert.deepEqual(r.retry_on, ["rate_limited", "overloaded", "server_error", "timeout", "connection_failure", "broken_stream"]);
  assert.deepEqual(r.backoff, backoffSchema.parse({}));
  assert.deepEqual(r.backoff, { kind: "exponential", base_ms: 100, max_ms: 2000, factor: 2, jitter: "full" });
  assert.deepEqual(r.budget, retryBudgetSchema.parse({}));
  assert.deepEqual(r.budget, { enabled: true, percent: 20, min_per_sec: 10, ttl_s: 10 });
});

test("other blocks parse from {} with their documented defaults", () => {
  assert.deepEqual(hedgeSchema.parse({}), { enabled: false, delay_ms: "p95", max_hedges: 1 });
  assert.deepEqual(queueSchema.parse({}), {
    size: 0,
    timeout_ms: 30_000,
    priority_header: "x-switchyard-priority",
    default_priority: "normal",
    wait_when_unavailable: false,
  });
  assert.deepEqual(slowStartSchema.parse({}), { enabled: true, window_s: 30, min_weight: 0.1, aggression: 1 });
  assert.equal(keyDisableSchema.parse({}).failure_rate, 0.5);
  assert.deepEqual(keyDisableSchema.parse({}).auth_statuses, [401, 403]);
  assert.equal(rateLimitAwarenessSchema.parse({}).max_bench_ms, 300_000);
  const h = healthCheckSchema.parse({});
  assert.equal(h.method, "GET");
  assert.equal(h.path, undefined);
  assert.equal(h.expect_status, undefined);
});

test("bad values get messages that name the mistake", () => {
  const r = breakerSchema.safeParse({ failure_rate: 50, open_s: 100, max_open_s: 50, bogus: 1 });
  assert.equal(r.success, false);
  const msgs = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  assert.ok(
    msgs.some((m) => m.startsWith("failure_rate: must be <= 1")),
    msgs.join("\n"),
  );
  assert.ok(
    msgs.some((m) => m.includes("bogus")),
    msgs.join("\n"),
  );
  assert.match(hedgeSchema.safeParse({ delay_ms: "p99" }).error!.issues[0]!.message, /"p95"/);
  assert.match(retryPolicySchema.safeParse({ retry_on: ["ok"] }).error!.issues[0]!.message, /outcome kinds/);
  assert.match(healthCheckSchema.safeParse({ path: "health" }).error!.issues[0]!.message, /start with \//);
  assert.match(
    breakerSchema.safeParse({ window: "count", window_calls: 10, min_calls: 20 }).error!.issues[0]!.message,
    /min_calls must be <= window_calls/,
  );
});

test("a target override inherits every field it does not set, nested blocks included", () => {
  const route = retryPolicySchema.parse({ attempts: 5, backoff: { max_ms: 5000 } });
  const override = overrideOf(retryPolicySchema).parse({ backoff: { base_ms: 500 } });
  const merged = mergePolicy(retryPolicySchema, route, override);
  assert.equal(merged.attempts, 5);
  assert.equal(merged.backoff.base_ms, 500);
  assert.equal(merged.backoff.max_ms, 5000, "the override's nested defaults must not mask the route's value");
  assert.equal(overrideOf(breakerSchema).safeParse({ nope: 1 }).success, false);
  assert.throws(() => mergePolicy(breakerSchema, breakerSchema.parse({}), { max_open_s: 1 }), /max_open_s/);
});
