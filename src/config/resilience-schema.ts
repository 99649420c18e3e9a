/**
 * Config schemas of the resilience policies (breaker, retry, backoff, retry budget, health
 * checks, key auto-disable, rate-limit awareness, hedging, queue, slow start). A route carries
 * each block; a target may override any field (see overrideOf / mergePolicy). Defaults follow
 * /work/shared/reference/resilience.md "Recommended defaults for Switchyard".
 */
import { z } from "zod";

const num = () => z.number({ error: "must be a number" });
const positive = () => num().positive({ error: "must be > 0" });
const nonNegative = () => num().nonnegative({ error: "must be >= 0" });
const positiveInt = () => num().int({ error: "must be an integer" }).positive({ error: "must be > 0" });
const nonNegativeInt = () => num().int({ error: "must be an integer" }).nonnegative({ error: "must be >= 0" });
/** A fraction in (0, 1]: 0.5 means 50 %. */
const rate = () =>
  num().gt(0, { error: "must be > 0 (a fraction like 0.5)" }).max(1, { error: "must be <= 1 (a fraction like 0.5, not 50)" });
const fraction = () => num().min(0, { error: "must be >= 0" }).max(1, { error: "must be <= 1 (a fraction like 0.1)" });
const bool = () => z.boolean({ error: "must be true or false" });
const status = () =>
  num()
    .int({ error: "must be an integer" })
    .min(100, { error: "must be an HTTP status 100-599" })
    .max(599, { error: "must be an HTTP status 100-599" });

export const BACKOFF_KINDS = ["fixed", "linear", "exponential", "fibonacci"] as const;
export const JITTER_KINDS = ["none", "full", "equal", "decorrelated"] as const;

/** Delay between attempts. Default: exponential from 100 ms, capped at 2 s, full jitter. */
export const backoffSchema = z
  .object({
    kind: z.enum(BACKOFF_KINDS, { error: `must be one of ${BACKOFF_KINDS.join(", ")}` }).default("exponential"),
    base_ms: nonNegative().default(100),
    /** Cap on any single delay (applied before jitter). */
    max_ms: nonNegative().default(2_000),
    /** Growth per attempt of the exponential kind. */
    factor: num().min(1, { error: "must be >= 1" }).default(2),
    jitter: z.enum(JITTER_KINDS, { error: `must be one of ${JITTER_KINDS.join(", ")}` }).default("full"),
  })
  .strict()
  .refine((b) => b.max_ms >= b.base_ms, { error: "max_ms must be >= base_ms", path: ["max_ms"] });

/** Finagle's retry budget: retries ≤ percent % of requests over ttl_s, plus min_per_sec × ttl_s. */
export const retryBudgetSchema = z
  .object({
    enabled: bool().default(true),
    percent: num().min(0, { error: "must be >= 0" }).max(1000, { error: "must be <= 1000 (a percentage like 20)" }).default(20),
    min_per_sec: nonNegative().default(10),
    ttl_s: positive().default(10),
  })
  .strict();

/**
 * How an attempt can end: the classifier's vocabulary (core/outcome.ts). Listed here because
 * `retry_on` and `same_target_on` name them; everything else reads them from core/outcome.
 */
export const OUTCOME_KINDS = [
  "ok",
  "client_error",
  "rate_limited",
  "overloaded",
  "server_error",
  "timeout",
  "connection_failure",
  "broken_stream",
] as const;

const RETRYABLE_KINDS = OUTCOME_KINDS.filter((k) => k !== "ok");
export const DEFAULT_RETRY_ON = ["rate_limited", "overloaded", "server_error", "timeout", "connection_failure", "broken_stream"] as const;

/**
 * Retries. "Fail over first": no delay when the next attempt goes to another healthy target;
 * the backoff applies only when retrying a target already tried.
 */
export const retryPolicySchema = z
  .object({
    /** Total attempts per request, the first included. */
    attempts: positiveInt().max(20, { error: "must be <= 20" }).default(3),
    retry_on: z
      .array(z.enum(RETRYABLE_KINDS, { error: `must be outcome kinds: ${RETRYABLE_KINDS.join(", ")}` }))
      .default([...DEFAULT_RETRY_ON]),
    backoff: backoffSchema.default({ kind: "exponential", base_ms: 100, max_ms: 2_000, factor: 2, jitter: "full" }),
    budget: retryBudgetSchema.default({ enabled: true, percent: 20, min_per_sec: 10, ttl_s: 10 }),
    /**
     * Where a retry goes: `next` fails over to a target this request has not tried (the same
     * one only when all were tried); `same` retries the target that failed while it is eligible.
     */
    target: z.enum(["next", "same"], { error: "must be next or same" }).default("next"),
    /** Outcome kinds retried on the same target whatever `target` says (e.g. [timeout] for a flaky network path). */
    same_target_on: z.array(z.enum(RETRYABLE_KINDS, { error: `must be outcome kinds: ${RETRYABLE_KINDS.join(", ")}` })).default([]),
    /**
     * When a retry goes back to a target that is still eligible (rate_limits off, an overloaded
     * answer that did not bench it, retry.target: same), its Retry-After is waited for up to this
     * long; longer → fail over or give up instead. A benched key is not waited for inside a
     * request: with every target out the client gets 429/503 with Retry-After at once, unless
     * queue.wait_when_unavailable holds it in the queue.
     */
    max_retry_after_ms: nonNegative().default(60_000),
  })
  .strict();

export const WINDOW_KINDS = ["time", "count"] as const;

/**
 * Per-target circuit breaker. Opens on `failure_threshold` consecutive failures, or (after
 * `min_calls` in the window) failure rate ≥ `failure_rate`, or slow-call rate ≥ `slow_call_rate`
 * when `slow_call_ms` is set. Open wait starts at `open_s` and doubles per re-opening up to
 * `max_open_s`.
 */
export const breakerSchema = z
  .object({
    enabled: bool().default(true),
    /** Consecutive failures that open the breaker; 0 turns this trigger off. */
    failure_threshold: nonNegativeInt().default(5),
    /** Successful probes in HALF_OPEN that close it. */
    success_threshold: positiveInt().default(3),
    /** Probes allowed in flight at once in HALF_OPEN. */
    half_open_calls: positiveInt().default(3),
    window: z.enum(WINDOW_KINDS, { error: `must be one of ${WINDOW_KINDS.join(", ")}` }).default("time"),
    /** Time window length in seconds (window: time). */
    window_s: positiveInt().max(3600, { error: "must be <= 3600" }).default(30),
    /** Outcomes kept (window: count). */
    window_calls: positiveInt().max(100_000, { error: "must be <= 100000" }).default(100),
    /** Calls in the window before rates are judged (so a quiet target never trips on 1 of 2). */
    min_calls: positiveInt().default(20),
    failure_rate: rate().default(0.5),
    /** A call slower than this counts as slow even when it succeeds; unset = no slow-call trigger. */
    slow_call_ms: positive().optional(),
    /** Share of slow calls that opens the breaker (only with slow_call_ms). */
    slow_call_rate: rate().default(0.8),
    open_s: positive().default(60),
    max_open_s: positive().default(300),
    /**
     * While open, the target's cheap call goes out this often; an answer ends the open wait
     * (half-open), so a target back from a long outage rejoins within about this long. 0 = off.
     */
    probe_interval_s: nonNegative().default(2),
    /** How the open wait grows with repeated openings, from open_s up to max_open_s. */
    open_backoff: z
      .object({
        kind: z.enum(BACKOFF_KINDS, { error: `must be one of ${BACKOFF_KINDS.join(", ")}` }).default("exponential"),
        factor: num().min(1, { error: "must be >= 1" }).default(2),
        jitter: z.enum(JITTER_KINDS, { error: `must be one of ${JITTER_KINDS.join(", ")}` }).default("none"),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((b) => b.max_open_s >= b.open_s, { error: "max_open_s must be >= open_s", path: ["max_open_s"] })
  .refine((b) => b.window !== "count" || b.min_calls <= b.window_calls, {
    error: "min_calls must be <= window_calls (the window could never hold enough calls)",
    path: ["min_calls"],
  });

/** Active health checks. Present = on; each field has a default. */
export const healthCheckSchema = z
  .object({
    enabled: bool().default(true),
    interval_s: positive().default(10),
    /** Each interval is randomised by ± this fraction so checks of many targets spread out. */
    jitter: fraction().default(0.1),
    timeout_ms: positive().default(5_000),
    /** Appended to the target's base_url; default: the provider's cheap call (GET {base}/models…). */
    path: z.string().regex(/^\//, { error: "must start with /" }).optional(),
    method: z.enum(["GET", "HEAD", "POST"], { error: "must be one of GET, HEAD, POST" }).default("GET"),
    /** Accepted statuses; unset = any 2xx. */
    expect_status: z.array(status()).min(1, { error: "must list at least one status" }).optional(),
    /** Consecutive passes that mark an unhealthy target healthy again. */
    healthy_threshold: positiveInt().default(2),
    /** Consecutive failures that mark a target unhealthy. */
    unhealthy_threshold: positiveInt().default(3),
  })
  .strict();

/** Key auto-disable: failure rate or auth errors take a key out; probes bring it back. */
export const keyDisableSchema = z
  .object({
    enabled: bool().default(true),
    window_s: positiveInt().max(3600, { error: "must be <= 3600" }).default(60),
    min_calls: positiveInt().default(20),
    /** Disabled when the failure rate exceeds this (strictly greater). */
    failure_rate: rate().default(0.5),
    /** A key disabled for its failure rate is probed this often (its cheap call, with its key). */
    probe_interval_s: positive().default(2),
    /** Consecutive successful probes that re-enable a key disabled for its failure rate. */
    probes_to_enable: positiveInt().default(1),
    /** Statuses that mean "this key is bad": disabled until an operator re-enables it. */
    auth_statuses: z.array(status()).default([401, 403]),
    /** Statuses that mean "this key's quota or credit is used up" (402 Payment Required): same treatment. */
    quota_statuses: z.array(status()).default([402]),
  })
  .strict();

/** Reacting to providers' rate-limit answers and headers. */
export const rateLimitAwarenessSchema = z
  .object({
    enabled: bool().default(true),
    /** Bench length when a 429 names no reset time. */
    default_bench_ms: positive().default(1_000),
    /** Longest bench; longer resets (daily quotas) are capped so the key is re-tried. */
    max_bench_ms: positive().default(300_000),
    /** An overloaded answer (503/529) with a Retry-After benches the key too. */
    bench_on_overloaded: bool().default(true),
    /** Below this fraction of its limit remaining, a target's share shrinks (1 → min_share). */
    low_fraction: fraction().default(0.1),
    min_share: fraction().default(0.1),
  })
  .strict();

/** Hedged requests (Dean & Barroso): a second attempt after `delay_ms` or the target's p95. */
export const hedgeSchema = z
  .object({
    enabled: bool().default(false),
    delay_ms: z.union([positive(), z.literal("p95")], { error: 'must be a number of ms or "p95"' }).default("p95"),
    max_hedges: positiveInt().max(4, { error: "must be <= 4" }).default(1),
  })
  .strict();

export const PRIORITIES = ["critical", "high", "normal", "low"] as const;

/** Priority queue for requests waiting for an eligible target. size 0 = fail fast (no queue). */
export const queueSchema = z
  .object({
    size: nonNegativeInt().default(0),
    timeout_ms: positive().default(30_000),
    priority_header: z
      .string()
      .regex(/^[a-z0-9-]+$/, { error: "must be a lower-case header name" })
      .default("x-switchyard-priority"),
    default_priority: z.enum(PRIORITIES, { error: `must be one of ${PRIORITIES.join(", ")}` }).default("normal"),
    /** Also wait (up to timeout_ms) when targets are out — open breakers, benched keys — until the soonest is back. */
    wait_when_unavailable: bool().default(false),
  })
  .strict();

/** Envoy slow start: weight × max(min_weight, (t / window)^(1 / aggression)) after recovery. */
export const slowStartSchema = z
  .object({
    enabled: bool().default(true),
    window_s: positive().default(30),
    min_weight: fraction().default(0.1),
    aggression: positive().default(1),
  })
  .strict();

export type BackoffConfig = z.output<typeof backoffSchema>;
export type RetryBudgetConfig = z.output<typeof retryBudgetSchema>;
export type RetryPolicyConfig = z.output<typeof retryPolicySchema>;
export type BreakerConfig = z.output<typeof breakerSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type KeyDisableConfig = z.output<typeof keyDisableSchema>;
export type RateLimitAwarenessConfig = z.output<typeof rateLimitAwarenessSchema>;
export type HedgeConfig = z.output<typeof hedgeSchema>;
export type QueueConfig = z.output<typeof queueSchema>;
export type SlowStartConfig = z.output<typeof slowStartSchema>;
export type Priority = (typeof PRIORITIES)[number];

/**
 * The schema of a per-target override: every field optional, no defaults (an absent field
 * inherits the route's value), unknown keys refused. Cross-field rules run again in mergePolicy.
 */
export function overrideOf(schema: z.ZodType): z.ZodObject {
  if (!(schema instanceof z.ZodObject)) throw new Error("overrideOf: not an object schema");
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(schema.shape)) {
    let field = v as z.ZodType;
    if (field instanceof z.ZodDefault) field = field.unwrap() as z.ZodType;
    if (field instanceof z.ZodOptional) field = field.unwrap() as z.ZodType;
    // Nested blocks (retry.backoff) are overrides too: their defaults must not mask the route's values.
    shape[k] = (field instanceof z.ZodObject ? overrideOf(field) : field).optional();
  }
  return z.object(shape).strict();
}

/** A route's parsed block with a target's override on top (one level of nested blocks merged), re-validated. */
export function mergePolicy<S extends z.ZodType>(schema: S, base: z.output<S>, override: Record<string, unknown> | undefined): z.output<S> {
  if (override === undefined) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlainObject(v) && isPlainObject(b) ? { ...b, ...v } : v;
  }
  return schema.parse(out);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
