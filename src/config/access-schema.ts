/**
 * The front door's blocks of the config: client keys, inbound limits (global, per route, per
 * key), budgets and CORS. Checked like the rest of the config; secrets masked in every output.
 */
import { z } from "zod";
import { PRIORITIES } from "./resilience-schema.js";

const positive = () => z.number({ error: "must be a number" }).positive({ error: "must be > 0" });
const positiveInt = () => z.number({ error: "must be a number" }).int({ error: "must be an integer" }).positive({ error: "must be > 0" });
const nonNegative = () => z.number({ error: "must be a number" }).nonnegative({ error: "must be >= 0" });

/**
 * Inbound limits, enforced by the gateway itself before any upstream call (its own 429,
 * `gateway_rate_limited`, with Retry-After and the IETF RateLimit-Policy / RateLimit headers):
 * requests per second with a burst (an exact sliding window: at most `burst` in any `burst / rps`
 * seconds, so `{rps: 1000, burst: 1000}` lets 1,000 through at once and the next ones a second
 * later — never 2,000 in a second as a token bucket would), requests per minute (at most `rpm` in
 * any 60 s), tokens per minute (a bucket: estimated before the call, corrected from the answer's
 * usage), and requests in parallel.
 */
export const inboundLimitsSchema = z
  .object({
    rps: positive().optional(),
    /** Bucket size: how many may come at once (default: rps, at least 1). */
    burst: positiveInt().optional(),
    rpm: positiveInt().optional(),
    /** Tokens per minute: estimated before the call (input + max output), corrected from the answer's usage. */
    tpm: positiveInt().optional(),
    /** Requests in flight at once (a semaphore); over it → 429 at once. */
    max_parallel: positiveInt().optional(),
  })
  .strict();
export type InboundLimits = z.output<typeof inboundLimitsSchema>;

/** Spend caps in USD, from the cost of each answer (usage × price). Over → 402 `budget_exceeded`, or the fallback route. */
export const budgetSchema = z
  .object({
    daily_usd: positive().optional(),
    monthly_usd: positive().optional(),
    /** Instead of refusing: send the request to this (cheaper) route, same surface. */
    fallback_route: z.string().min(1).optional(),
  })
  .strict();
export type BudgetConfig = z.output<typeof budgetSchema>;

/**
 * One client key (a virtual key): what it may reach and how much. The key is given in clear
 * (`key`, usually `${ENV}`) or as its SHA-256 (`key_sha256`, hex); only the hash is kept in memory.
 */
export const clientKeySchema = z
  .object({
    name: z.string({ error: "must be a string" }).min(1, { error: "must not be empty (the key's name)" }),
    key: z.string().min(8, { error: "must be at least 8 characters" }).optional(),
    key_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: "must be 64 lower-case hex characters (SHA-256)" })
      .optional(),
    /** Route names it may use (default: all). */
    routes: z.array(z.string().min(1)).optional(),
    /** Model names it may ask for (default: all). */
    models: z.array(z.string().min(1)).optional(),
    limits: inboundLimitsSchema.default({}),
    budget: budgetSchema.omit({ fallback_route: true }).strict().optional(),
    /** Its requests' queue priority unless they say otherwise. */
    priority: z.enum(PRIORITIES, { error: `must be one of ${PRIORITIES.join(", ")}` }).optional(),
    /** ISO date-time after which it is refused (403). */
    expires_at: z.iso.datetime({ offset: true, error: "must be an ISO date-time like 2027-01-01T00:00:00Z" }).optional(),
    disabled: z.boolean().default(false),
    metadata: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((k, ctx) => {
    if ((k.key === undefined) === (k.key_sha256 === undefined))
      ctx.addIssue({ code: "custom", path: ["key"], message: "give key or key_sha256 (one of them)" });
  });
export type ClientKeyConfig = z.output<typeof clientKeySchema>;

/** The list: names are how logs, metrics and the admin API tell keys apart, so they are unique. */
export const clientKeysSchema = z.array(clientKeySchema).superRefine((keys, ctx) => {
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (seen.has(k.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate client key name "${k.name}"` });
    seen.add(k.name);
  });
});

/** CORS for browser clients: a preflight answered 204 by the gateway, answers carrying the allowed origin. */
export const corsSchema = z
  .object({
    /** Allowed origins (`https://app.example.com`), or ["*"]. Empty: CORS off. */
    origins: z.array(z.string().min(1)).default([]),
    methods: z.array(z.string().min(1)).default(["GET", "POST", "OPTIONS"]),
    /** Request headers a browser may send. */
    headers: z.array(z.string().min(1)).default(["authorization", "content-type", "x-api-key", "x-goog-api-key", "anthropic-version"]),
    /** Response headers a browser may read. */
    expose_headers: z
      .array(z.string().min(1))
      .default(["x-request-id", "x-switchyard-target", "retry-after", "ratelimit", "ratelimit-policy"]),
    credentials: z.boolean().default(false),
    max_age_s: nonNegative().default(600),
  })
  .strict();
export type CorsConfig = z.output<typeof corsSchema>;

/**
 * A route budget's `fallback_route` must name another route of the same surface: the request is
 * sent there as it came (same dialect, same body), so a route of another surface could not serve it.
 */
export function checkBudgetFallbacks(
  routes: readonly { name: string; surface: string; budget?: { fallback_route?: string | undefined } | undefined }[],
  ctx: z.RefinementCtx,
): void {
  routes.forEach((route, i) => {
    const name = route.budget?.fallback_route;
    if (name === undefined) return;
    const path = ["routes", i, "budget", "fallback_route"];
    const to = routes.find((r) => r.name === name);
    if (to === undefined) ctx.addIssue({ code: "custom", path, message: `no route named "${name}"` });
    else if (to === route) ctx.addIssue({ code: "custom", path, message: "must name another route (not this one)" });
    else if (to.surface !== route.surface)
      ctx.addIssue({ code: "custom", path, message: `route "${name}" serves surface ${to.surface}, not ${route.surface}` });
  });
}
