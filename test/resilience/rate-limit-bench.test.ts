import { test } from "node:test";
import assert from "node:assert/strict";
import { rateLimitAwarenessSchema } from "../../src/config/resilience-schema.ts";
import { RateLimitBench } from "../../src/resilience/rate-limit-bench.ts";
import { Outcome } from "../../src/core/outcome.ts";
import { PolicyList } from "../../src/resilience/policy-list.ts";
import { MemoryStore } from "../../src/state/memory-store.ts";
import { makePool } from "../balancer/fixtures.ts";

const T0 = 1_700_000_000_000;
const make = (o: Record<string, unknown> = {}) => new RateLimitBench(rateLimitAwarenessSchema.parse(o));
const r429 = (retryAt = 0) => new Outcome("rate_limited", 429, "429 from upstream", retryAt);

test("a 429 benches until its Retry-After; the newest, later deadline wins; a shorter one never shortens", () => {
  const [t] = makePool([{}]);
  const b = make();
  const seen: number[] = [];
  b.onBench((_t, until) => seen.push(until - T0));
  assert.equal(b.observe(t!, r429(T0 + 10_000), T0), T0 + 10_000);
  assert.equal(b.isEligible(t!, T0 + 9_999), false);
  assert.equal(b.eligibleAt(t!, T0), T0 + 10_000);
  b.observe(t!, r429(T0 + 2_000), T0 + 1000);
  assert.equal(b.benchedUntil(t!, T0 + 1000), T0 + 10_000, "shorter deadline ignored");
  b.observe(t!, r429(T0 + 20_000), T0 + 1000);
  assert.equal(b.benchedUntil(t!, T0 + 1000), T0 + 20_000, "longer deadline extends");
  assert.equal(b.isEligible(t!, T0 + 20_000), true);
  assert.deepEqual(seen, [10_000, 20_000]);
});

test("no Retry-After: the provider's reset header, else the 1 s default; capped at 300 s", () => {
  const [oai, rest] = makePool([{ provider: "openai" }, { provider: "rest" }]);
  const b = make();
  const until = b.observe(oai!, r429(), T0, {
    "x-ratelimit-limit-requests": "100",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "6s",
  });
  assert.equal(until, T0 + 6000);
  assert.equal(b.observe(rest!, r429(), T0), T0 + 1000);
  const [x] = makePool([{}]);
  assert.equal(b.observe(x!, r429(T0 + 3_600_000), T0), T0 + 300_000, "a daily reset is capped, not ignored");
});

test("Anthropic reset timestamps are read too", () => {
  const [a] = makePool([{ provider: "anthropic", base_url: "http://127.0.0.1:1" }]);
  const b = make();
  const reset = new Date(T0 + 42_000).toISOString();
  const until = b.observe(a!, r429(), T0, {
    "anthropic-ratelimit-requests-limit": "50",
    "anthropic-ratelimit-requests-remaining": "0",
    "anthropic-ratelimit-requests-reset": reset,
  });
  assert.equal(until, T0 + 42_000);
});

test("overloaded benches only with a Retry-After; server errors never", () => {
  const [t] = makePool([{}]);
  const b = make();
  assert.equal(b.observe(t!, new Outcome("overloaded", 529, "529", 0), T0), 0);
  assert.equal(b.observe(t!, new Outcome("server_error", 500, "500", 0), T0), 0);
  assert.equal(b.isEligible(t!, T0), true);
  assert.equal(b.observe(t!, new Outcome("overloaded", 503, "503", T0 + 5000), T0), T0 + 5000);
  assert.equal(make({ bench_on_overloaded: false }).observe(t!, new Outcome("overloaded", 503, "503", T0 + 5000), T0), 0);
});

test("proactive: low remaining quota shrinks the share until reset; none left benches", () => {
  const [t] = makePool([{}]);
  const b = make();
  const ok = new Outcome("ok", 200, "ok");
  b.observe(t!, ok, T0, {
    "x-ratelimit-limit-requests": "1000",
    "x-ratelimit-remaining-requests": "500",
    "x-ratelimit-reset-requests": "30s",
  });
  assert.equal(b.share(t!, T0), 1, "50 % left: full share");
  b.observe(t!, ok, T0, {
    "x-ratelimit-limit-requests": "1000",
    "x-ratelimit-remaining-requests": "50",
    "x-ratelimit-reset-requests": "30s",
    "x-ratelimit-limit-tokens": "100000",
    "x-ratelimit-remaining-tokens": "9000",
    "x-ratelimit-reset-tokens": "10s",
  });
  assert.equal(b.share(t!, T0), 0.5, "50 of 1000 = half the 10 % threshold; the tighter of requests and tokens");
  assert.equal(b.share(t!, T0 + 30_000), 1, "back to full after the reset");
  b.observe(t!, ok, T0, { "x-ratelimit-limit-tokens": "100000", "x-ratelimit-remaining-tokens": "1", "x-ratelimit-reset-tokens": "10s" });
  assert.equal(b.share(t!, T0), 0.1, "floored at min_share");
  assert.equal(b.isEligible(t!, T0), true);
  b.observe(t!, ok, T0, {
    "x-ratelimit-limit-requests": "1000",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "2s",
  });
  assert.equal(b.isEligible(t!, T0 + 1999), false, "nothing left: benched before the certain 429");
  assert.equal(b.isEligible(t!, T0 + 2000), true);
});

test("eligibility: benched targets are excluded with a Retry-After hint; a bench shared through the store only ever extends", () => {
  const pool = makePool([{}, {}]);
  const store = new MemoryStore();
  const b = new RateLimitBench(rateLimitAwarenessSchema.parse({}), store);
  const list = new PolicyList([b]);
  b.bench(pool[0]!, T0 + 7000, T0, "operator");
  assert.deepEqual(list.reasons(pool[0]!, T0), ["rate_limit"]);
  b.bench(pool[1]!, T0 + 3000, T0, "rate_limited");
  assert.equal(list.soonestEligibleAt(pool, T0), T0 + 3000);
  const other = new RateLimitBench(rateLimitAwarenessSchema.parse({}), store);
  assert.equal(other.benchedUntil(pool[0]!, T0), T0 + 7000, "another process sharing the store sees the bench");
  other.bench(pool[0]!, T0 + 1000, T0, "rate_limited");
  assert.equal(b.benchedUntil(pool[0]!, T0), T0 + 7000, "a shorter bench never cuts a longer one");
  list.act("clear-bench", pool[0]!, T0);
  assert.equal(other.isEligible(pool[0]!, T0), true);
});
