/**
 * The outbound quota (resilience/target-quota.ts) on an injected clock: a target at its rpm / tpm
 * is out until its window frees, eligibleAt says exactly when, tokens are estimated then
 * corrected from the answer, the provider's remaining-quota headers win when they say less, a
 * reload keeps the window — and, against simulated providers counting in a fixed window from
 * their first request (the simulator's key_quota) or a sliding one, with random network and
 * answer delays, the gateway never sends a call over the quota.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import { Target, DEFAULT_TIMEOUTS } from "../../src/core/target.ts";
import { Outcome } from "../../src/core/outcome.ts";
import type { Usage } from "../../src/providers/canonical.ts";
import type { RequestContext } from "../../src/core/request-context.ts";
import { routeSchema, targetSchema } from "../../src/config/schema.ts";
import { PolicyList } from "../../src/resilience/policy-list.ts";
import { PriorityQueue } from "../../src/resilience/priority-queue.ts";
import { REFUSED, type AttemptReport, type Policy } from "../../src/resilience/policy.ts";
import { DEFAULT_OUTPUT_TOKENS, TargetQuota, estimateTokens } from "../../src/resilience/target-quota.ts";
import { KeyQuota } from "../../src/simulator/key-quota.ts";
import { makeCtx, makePool, type TargetSpec } from "../balancer/fixtures.ts";

const T0 = 1_700_000_000_000; // a multiple of the 1 s bucket of a 60 s window
const OK = new Outcome("ok", 200, "ok");

function report(
  target: Target,
  ctx: RequestContext,
  o: { ttfbMs?: number; latencyMs?: number; headers?: IncomingHttpHeaders; outcome?: Outcome } = {},
): AttemptReport {
  return {
    target,
    outcome: o.outcome ?? OK,
    headers: o.headers,
    errorBody: "",
    ttfbMs: o.ttfbMs ?? 10,
    latencyMs: o.latencyMs ?? o.ttfbMs ?? 10,
    ticket: 0,
    ctx,
  };
}

/** Admits and starts one call the way PolicyList does; false when refused. */
function start(q: TargetQuota, t: Target, now: number, ctx: RequestContext = makeCtx()): boolean {
  if (!q.isEligible(t, now) || q.admit(t, now, ctx) === REFUSED) return false;
  q.onStart(t, now, ctx);
  return true;
}

/** A chat request of a body of `bytes` bytes (about bytes / 4 input tokens). */
function chat(bytes: number, maxTokens?: number): RequestContext {
  const json: Record<string, unknown> = { model: "m", messages: [{ role: "user", content: "hi" }] };
  if (maxTokens !== undefined) json["max_tokens"] = maxTokens;
  const ctx = makeCtx({ json });
  ctx.body = Buffer.alloc(bytes, 32);
  return ctx;
}

test("at its rpm a target is out until one window after its calls' first bytes; eligibleAt says exactly when", () => {
  const [t] = makePool([{ limits: { rpm: 3 } }]);
  const q = new TargetQuota([t!]);
  const ctx = makeCtx();
  for (let i = 0; i < 3; i++) assert.ok(start(q, t!, T0 + i, ctx), `call ${i} admitted`);
  assert.equal(q.isEligible(t!, T0 + 3), false);
  assert.equal(q.admit(t!, T0 + 3, ctx), REFUSED, "admission checks again");
  // All three in flight: taken to answer now, so a window from now (rounded up to its bucket).
  assert.equal(q.eligibleAt(t!, T0 + 3), T0 + 61_000);
  // They answer at +300 (first byte at +200): released at +200 + 60 s, at the end of that bucket.
  for (let i = 0; i < 3; i++) q.onOutcome(report(t!, ctx, { ttfbMs: 200 - i, latencyMs: 300 - i }), T0 + 300);
  assert.equal(q.eligibleAt(t!, T0 + 300), T0 + 61_000);
  assert.equal(q.isEligible(t!, T0 + 60_999), false);
  assert.equal(q.isEligible(t!, T0 + 61_000), true);
  assert.deepEqual(q.targetStatus(t!, T0 + 61_000), {
    window_s: 60,
    rpm: 3,
    tpm: null,
    requests: 0,
    tokens: 0,
    in_flight: 0,
    free_at: null,
  });
});

test("a sliding window: each call's slot frees on its own, not all at a window's edge", () => {
  const [t] = makePool([{ limits: { rpm: 2 } }]);
  const q = new TargetQuota([t!]);
  const ctx = makeCtx();
  assert.ok(start(q, t!, T0));
  q.onOutcome(report(t!, ctx, { ttfbMs: 100, latencyMs: 100 }), T0 + 100); // holds until T0 + 60.1 s → 61 s bucket end
  assert.ok(start(q, t!, T0 + 30_000));
  q.onOutcome(report(t!, ctx, { ttfbMs: 100, latencyMs: 100 }), T0 + 30_100); // until 90.1 s → 91 s
  assert.equal(q.isEligible(t!, T0 + 30_100), false);
  assert.equal(q.eligibleAt(t!, T0 + 30_100), T0 + 61_000, "the first call's slot");
  assert.ok(start(q, t!, T0 + 61_000));
  assert.equal(q.isEligible(t!, T0 + 61_000), false);
  assert.equal(q.eligibleAt(t!, T0 + 61_000), T0 + 91_000, "then the second's");
});

test("window_s: a quota per 10 s frees after 10 s", () => {
  const [t] = makePool([{ limits: { rpm: 1, window_s: 10 } }]);
  const q = new TargetQuota([t!]);
  const ctx = makeCtx();
  assert.ok(start(q, t!, T0));
  q.onOutcome(report(t!, ctx, { ttfbMs: 50, latencyMs: 50 }), T0 + 50);
  const at = q.eligibleAt(t!, T0 + 50);
  assert.ok(at >= T0 + 10_050 && at <= T0 + 10_050 + 167, `frees within a bucket (167 ms) after 10.05 s: ${at - T0}`);
  assert.equal(q.isEligible(t!, at - 1), false);
  assert.equal(q.isEligible(t!, at), true);
});

test("tokens: the estimate is reserved, corrected from the answer's usage; a request that does not fit keeps the target out until it does", () => {
  const [t] = makePool([{ limits: { tpm: 1000 } }]);
  const q = new TargetQuota([t!]);
  const big = chat(400, 200); // 100 input + 200 output
  assert.equal(estimateTokens(big), 300);
  assert.equal(estimateTokens(chat(400)), 100 + DEFAULT_OUTPUT_TOKENS, "no max_tokens: the default output");
  for (let i = 0; i < 3; i++) assert.ok(start(q, t!, T0, big));
  assert.equal(q.admit(t!, T0, big), REFUSED, "900 + 300 > 1000");
  const small = chat(40, 10);
  assert.equal(q.isEligible(t!, T0), false, "out for the refused request's 300, though 100 are left");
  // One answers having used 50 tokens: 650 held, the 300 fit.
  big.usage = { prompt_tokens: 40, completion_tokens: 10, total_tokens: 50 } satisfies Usage;
  q.onOutcome(report(t!, big), T0 + 100);
  assert.equal(q.isEligible(t!, T0 + 100), true);
  assert.ok(start(q, t!, T0 + 100, small), "a later small request goes; the need is met");
  const s = q.targetStatus(t!, T0 + 100)!;
  assert.equal(s["tokens"], 300 + 300 + 50 + estimateTokens(small));
  assert.equal(s["in_flight"], 3);
});

test("a failed answer keeps its estimate; a request larger than the whole tpm goes into an empty window", () => {
  const [t] = makePool([{ limits: { tpm: 100 } }]);
  const q = new TargetQuota([t!]);
  const huge = chat(4000, 500);
  assert.ok(start(q, t!, T0, huge), "alone in the window: sent (the provider decides)");
  assert.equal(q.isEligible(t!, T0), false);
  q.onOutcome(report(t!, huge, { outcome: new Outcome("server_error", 500, "500 from upstream") }), T0 + 10);
  assert.equal(q.targetStatus(t!, T0 + 10)!["tokens"], estimateTokens(huge), "no usage: the estimate holds");
  assert.equal(q.eligibleAt(t!, T0 + 10), T0 + 61_000);
});

test("the provider's remaining-quota headers win when they say fewer remain, until the provider's reset", () => {
  const [t] = makePool([{ limits: { rpm: 60 } }]);
  const q = new TargetQuota([t!]);
  const ctx = makeCtx();
  assert.ok(start(q, t!, T0));
  // Another client of the same key used 49: the provider says 10 remain, resetting in 20 s.
  q.onOutcome(
    report(t!, ctx, {
      headers: { "x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "10", "x-ratelimit-reset-requests": "20s" },
    }),
    T0 + 10,
  );
  assert.equal(q.targetStatus(t!, T0 + 10)!["requests"], 50);
  for (let i = 0; i < 10; i++) assert.ok(start(q, t!, T0 + 20));
  assert.equal(q.isEligible(t!, T0 + 20), false, "10 more, and the target is out");
  assert.equal(q.eligibleAt(t!, T0 + 20), T0 + 21_000, "the provider's reset (its bucket's end)");
  assert.equal(q.isEligible(t!, T0 + 21_000), true);
  // Saying more remain than counted changes nothing.
  const [u] = makePool([{ limits: { rpm: 5 } }]);
  const q2 = new TargetQuota([u!]);
  assert.ok(start(q2, u!, T0));
  q2.onOutcome(report(u!, ctx, { headers: { "x-ratelimit-remaining-requests": "9999", "x-ratelimit-reset-requests": "1s" } }), T0 + 10);
  assert.equal(q2.targetStatus(u!, T0 + 10)!["requests"], 1);
});

test("Anthropic's remaining tokens are read too", () => {
  const [t] = makePool([{ provider: "anthropic", base_url: "http://127.0.0.1:1", limits: { tpm: 10_000 } }]);
  const q = new TargetQuota([t!]);
  const ctx = chat(400, 100);
  assert.ok(start(q, t!, T0, ctx));
  q.onOutcome(
    report(t!, ctx, {
      headers: {
        "anthropic-ratelimit-tokens-limit": "10000",
        "anthropic-ratelimit-tokens-remaining": "0",
        "anthropic-ratelimit-tokens-reset": new Date(T0 + 30_000).toISOString(),
      },
    }),
    T0 + 10,
  );
  assert.equal(q.isEligible(t!, T0 + 10), false);
  assert.equal(q.eligibleAt(t!, T0 + 10), T0 + 30_000);
});

test("a call is counted only once every admitting policy said yes; the breaker's ticket passes through", () => {
  const [t] = makePool([{ limits: { rpm: 1 } }]);
  const q = new TargetQuota([t!]);
  const refuse: Policy = { name: "no", admit: () => REFUSED };
  assert.equal(new PolicyList([q, refuse]).admit(t!, T0, makeCtx()), REFUSED);
  assert.equal(q.targetStatus(t!, T0)!["in_flight"], 0, "nothing held for a refused call");
  const epoch: Policy = { name: "breaker", admit: () => 7 };
  assert.equal(new PolicyList([q, epoch]).admit(t!, T0, makeCtx()), 7);
  assert.equal(q.targetStatus(t!, T0)!["in_flight"], 1);
});

test("a reload keeps a kept target's window (same stats object); a new window_s starts afresh; no limits, no window", () => {
  const cfg = (limits: TargetSpec["limits"]) =>
    targetSchema.parse({ id: "a", provider: "openai", base_url: "http://127.0.0.1:1/v1", limits });
  const t = new Target(cfg({ rpm: 2 }), "r", 0, DEFAULT_TIMEOUTS);
  const q = new TargetQuota([t]);
  assert.ok(start(q, t, T0));
  assert.ok(start(q, t, T0));
  const kept = new Target(cfg({ rpm: 3 }), "r", 0, DEFAULT_TIMEOUTS, t.stats);
  const q2 = new TargetQuota([kept]);
  assert.equal(q2.targetStatus(kept, T0)!["requests"], 2, "the two in flight are still counted");
  assert.ok(start(q2, kept, T0));
  assert.equal(q2.isEligible(kept, T0), false, "3 of the new rpm 3");
  q.onOutcome(report(t, makeCtx()), T0 + 10); // an attempt of the old generation ends
  assert.equal(q2.targetStatus(kept, T0 + 10)!["in_flight"], 2);
  const moved = new Target(cfg({ rpm: 3, window_s: 30 }), "r", 0, DEFAULT_TIMEOUTS, t.stats);
  assert.equal(new TargetQuota([moved]).targetStatus(moved, T0)!["requests"], 0);
  const free = new Target(cfg({ max_concurrent: 1 }), "r", 0, DEFAULT_TIMEOUTS);
  const q3 = new TargetQuota([free]);
  assert.equal(q3.active, false);
  assert.equal(q3.targetStatus(free, T0), undefined);
  assert.equal(q3.isEligible(free, T0), true);
});

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A provider counting in a sliding window of arrivals (a log). */
class SlidingProvider {
  private readonly arrivals: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  take(now: number): boolean {
    while (this.arrivals.length > 0 && (this.arrivals[0] ?? 0) <= now - this.windowMs) this.arrivals.shift();
    if (this.arrivals.length >= this.limit) return false;
    this.arrivals.push(now);
    return true;
  }
}

test("never over the quota: 2000 calls against a fixed-window and a sliding-window provider, random network and answer delays", () => {
  for (const seed of [1, 2, 3]) {
    const random = rng(seed);
    const rpm = 20;
    const windowMs = 10_000;
    const [t] = makePool([{ limits: { rpm, window_s: 10 } }]);
    const q = new TargetQuota([t!]);
    const fixed = new KeyQuota();
    const sliding = new SlidingProvider(rpm, windowMs);
    // Events: [time, kind, call]; kind 0 = arrives at the provider, 1 = first byte back, 2 = ends.
    type Call = { ctx: RequestContext; start: number; ttfb: number };
    const events: [number, number, Call][] = [];
    let sent = 0;
    let refusedByProvider = 0;
    let now = T0;
    for (let tick = 0; tick < 20_000 && sent < 2000; tick++) {
      now += Math.floor(random() * 40);
      // Process every event due by now, in time order.
      events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      while (events.length > 0 && (events[0]?.[0] ?? Infinity) <= now) {
        const [at, kind, call] = events.shift()!;
        if (kind === 0) {
          if (!fixed.take("k", at, rpm, windowMs)) refusedByProvider++;
          if (!sliding.take(at)) refusedByProvider++;
        } else if (kind === 2) {
          q.onOutcome(report(t!, call.ctx, { ttfbMs: call.ttfb, latencyMs: at - call.start }), at);
        }
      }
      if (random() < 0.9 && start(q, t!, now)) {
        sent++;
        const arrive = Math.floor(random() * 300); // network and the provider's own queue
        const ttfb = arrive + Math.floor(random() * 800);
        const end = ttfb + Math.floor(random() * (random() < 0.2 ? 5000 : 200)); // some stream long
        const call: Call = { ctx: makeCtx(), start: now, ttfb };
        events.push([now + arrive, 0, call], [now + end, 2, call]);
      }
    }
    assert.equal(refusedByProvider, 0, `seed ${seed}: no call over the quota`);
    assert.ok(sent >= 500, `seed ${seed}: the quota was used (${sent} calls)`);
  }
});

test("waiters timed for the same freed quota are woken in queue order, not in their timers' order", async () => {
  const queue = new PriorityQueue(10, 5_000);
  const woken: string[] = [];
  const now = Date.now();
  // A queued first with no time to wake at; B later, timed to wake in 30 ms: B's timer wakes A.
  const a = queue.wait("normal", now + 5_000, 0).then(() => woken.push("a"));
  const b = queue.wait("normal", now + 5_000, now + 30).then(() => woken.push("b"));
  await a;
  assert.deepEqual(woken, ["a"]);
  assert.equal(queue.length, 1, "B waits on, for its deadline or the next wake-up");
  queue.wakeOne();
  await b;
  assert.deepEqual(woken, ["a", "b"]);
});

test("config: limits.window_s defaults to 60; when_all_unavailable needs a queue and agrees with wait_when_unavailable", () => {
  const target = { id: "a", provider: "openai", base_url: "http://127.0.0.1:1/v1", limits: { rpm: 10 } };
  assert.deepEqual(targetSchema.parse(target).limits, { rpm: 10, window_s: 60 });
  const route = (extra: Record<string, unknown>) =>
    routeSchema.safeParse({ name: "r", surface: "openai", models: ["m"], targets: [target], ...extra });
  const issues = (extra: Record<string, unknown>) => route(extra).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
  assert.deepEqual(issues({ when_all_unavailable: "wait", queue: { size: 10 } }), []);
  assert.deepEqual(issues({ when_all_unavailable: "fail" }), [], "fail needs no queue");
  assert.deepEqual(issues({ when_all_unavailable: "soonest" }), [
    "queue.size: must be > 0: requests wait in the queue (when_all_unavailable: soonest)",
  ]);
  assert.deepEqual(issues({ when_all_unavailable: "fail", queue: { size: 10, wait_when_unavailable: true } }), [
    "when_all_unavailable: is fail but queue.wait_when_unavailable (its older name for wait) is true",
  ]);
  assert.equal(route({}).data?.when_all_unavailable, undefined, "unset: wait on quotas only");
  assert.equal(issues({ targets: [{ ...target, limits: { rpm: 10, window_s: 0 } }] }).length, 1);
});

test("instances sharing a quota keep a share each: 60 rpm over 3 instances is 20 here, and the share follows the count", () => {
  const [t] = makePool([{ limits: { rpm: 60, tpm: 900_000 } }]);
  let instances = 3;
  const q = new TargetQuota([t!], () => instances);
  let admitted = 0;
  for (let i = 0; i < 60; i++) if (start(q, t!, T0 + i)) admitted++;
  assert.equal(admitted, 20, "this instance's share of 60 rpm");
  const status = q.targetStatus(t!, T0 + 100)!;
  assert.equal(status["rpm"], 20);
  assert.equal(status["tpm"], 300_000);
  assert.equal(status["shared_by"], 3);
  // Alone again: the whole quota is this instance's (the count is read at most once a second).
  instances = 1;
  const alone = new TargetQuota([t!], () => instances);
  assert.equal(alone.targetStatus(t!, T0)!["shared_by"], undefined);
  assert.equal(alone.targetStatus(t!, T0)!["rpm"], 60);
});
