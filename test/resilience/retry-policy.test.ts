import { test } from "node:test";
import assert from "node:assert/strict";
import { retryPolicySchema } from "../../src/config/resilience-schema.ts";
import { DONT_WAIT, RetryPolicy } from "../../src/resilience/retry-policy.ts";
import { configSchema } from "../../src/config/schema.ts";
import { GatewayEvents } from "../../src/core/events.ts";
import { RoutePolicies } from "../../src/resilience/route-policies.ts";
import { MemoryStore } from "../../src/state/memory-store.ts";

const T0 = 1_700_000_000_000;

test("retries the configured kinds only", () => {
  const p = new RetryPolicy(retryPolicySchema.parse({}));
  for (const k of ["rate_limited", "overloaded", "server_error", "timeout", "connection_failure", "broken_stream"] as const)
    assert.equal(p.retries(k), true, k);
  assert.equal(p.retries("client_error"), false);
  assert.equal(p.retries("ok"), false);
  assert.equal(new RetryPolicy(retryPolicySchema.parse({ retry_on: ["timeout"] })).retries("server_error"), false);
});

test("fail over first: no delay when the next attempt goes to an untried target", () => {
  const p = new RetryPolicy(retryPolicySchema.parse({ backoff: { jitter: "none" } }), () => 1);
  assert.equal(p.delayBefore(1, false, T0 + 30_000, T0), 0);
  assert.equal(p.delayBefore(2, true, 0, T0), 200, "same target: backoff");
});

test("same target: the longer of backoff and Retry-After; beyond max_retry_after_ms, don't wait", () => {
  const p = new RetryPolicy(retryPolicySchema.parse({ backoff: { jitter: "none" }, max_retry_after_ms: 5000 }));
  assert.equal(p.delayBefore(1, true, T0 + 3000, T0), 3000);
  assert.equal(p.delayBefore(1, true, T0 + 50, T0), 100);
  assert.equal(p.delayBefore(1, true, T0 + 5001, T0), DONT_WAIT);
});

test("the retry budget is the route's policy and can be turned off", () => {
  const route = (retry: Record<string, unknown>) =>
    configSchema.parse({
      routes: [
        { name: "r", surface: "rest", service: "s", retry, targets: [{ id: "t", provider: "rest", base_url: "http://127.0.0.1:1" }] },
      ],
    }).routes[0]!;
  const policies = (retry: Record<string, unknown>) => new RoutePolicies(route(retry), [], new MemoryStore(), new GatewayEvents());
  assert.ok(policies({}).budget);
  assert.equal(policies({ budget: { enabled: false } }).budget, null);
});
