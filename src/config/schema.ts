/**
 * The configuration schema: the one source of the config's types, defaults and error messages.
 * YAML keys are snake_case; the parsed, defaulted result keeps them (what you read in the file
 * is what you find in code and in `switchyard validate`).
 */
import { z } from "zod";
import { PROVIDERS, PROVIDER_NAMES, type ProviderName } from "../providers/registry.js";
import type { WireFormat } from "../providers/adapter.js";
import {
  breakerSchema,
  hedgeSchema,
  healthCheckSchema,
  keyDisableSchema,
  overrideOf,
  queueSchema,
  rateLimitAwarenessSchema,
  retryPolicySchema,
  slowStartSchema,
} from "./resilience-schema.js";
import { alertsSchema } from "./alerts-schema.js";
import { budgetSchema, checkBudgetFallbacks, clientKeysSchema, corsSchema, inboundLimitsSchema } from "./access-schema.js";
import { batchingSchema, cacheStoreSchema, routeCacheSchema } from "./cache-schema.js";
import { sharedSchema } from "./shared-schema.js";
import { logSchema, metricsSchema, storeSchema, tracingSchema, usageSchema } from "./telemetry-schema.js";

export const SURFACES = ["openai", "anthropic", "gemini", "rest"] as const;
export const STRATEGIES = [
  "round-robin",
  "weighted",
  "weighted-random",
  "least-connections",
  "p2c",
  "latency",
  "health",
  "least-recently-used",
  "time-window",
  "cost",
  "quality",
  "tiered",
  "adaptive",
  "sticky",
] as const;

/**
 * Other spellings of strategy names (those of the multi-key balancer Switchyard stands in for),
 * mapped to the canonical name when the config is parsed: `switchyard validate` shows the canonical one.
 */
export const STRATEGY_ALIASES = {
  round_robin: "round-robin",
  health_aware: "health",
  cost_optimized: "cost",
  performance_based: "latency",
  quality_based: "quality",
  adaptive_learning: "adaptive",
  time_window: "time-window",
} as const satisfies Record<string, StrategyName>;

type StrategyAlias = keyof typeof STRATEGY_ALIASES;
const STRATEGY_SPELLINGS = [...STRATEGIES, ...(Object.keys(STRATEGY_ALIASES) as StrategyAlias[])];

/**
 * A strategy name, an alias mapped to its canonical name; an unknown one lists the canonical
 * names. (An enum of every spelling, then the mapping: the JSON Schema for editors keeps the list.)
 */
export const strategyEnum = () =>
  z
    .enum(STRATEGY_SPELLINGS, { error: `must be one of ${STRATEGIES.join(", ")}` })
    .transform((v): StrategyName => (Object.hasOwn(STRATEGY_ALIASES, v) ? STRATEGY_ALIASES[v as StrategyAlias] : (v as StrategyName)));

/**
 * A route prefix: `/`-separated segments, each literal or a `{name}` wildcard that matches any one
 * non-empty segment (`/{tenant}/lb`).
 */
const PREFIX = /^(?:\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_-]*\}))+$/;

const positive = (what = "number") => z.number({ error: `must be a ${what}` }).positive({ error: "must be > 0" });
const nonNegative = () => z.number({ error: "must be a number" }).nonnegative({ error: "must be >= 0" });
const positiveInt = () => z.number({ error: "must be a number" }).int({ error: "must be an integer" }).positive({ error: "must be > 0" });
const nonEmpty = (what: string) => z.string({ error: `must be a string (${what})` }).min(1, { error: `must not be empty (${what})` });

const url = z.string({ error: "must be a URL string" }).refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  },
  { error: "must be an http(s) URL like https://api.openai.com/v1" },
);

/** Timeouts in milliseconds; 0 turns one off. */
export const timeoutsSchema = z
  .object({
    connect_ms: nonNegative().optional(),
    first_byte_ms: nonNegative().optional(),
    idle_ms: nonNegative().optional(),
    total_ms: nonNegative().optional(),
  })
  .strict();

export const authSchema = z
  .object({
    /** bearer: `Authorization: Bearer <key>`; header: `<name>: <key>`; query: `?<name>=<key>`; none. */
    type: z.enum(["bearer", "header", "query", "none"], { error: "must be one of bearer, header, query, none" }),
    name: z.string().min(1).optional(),
  })
  .strict();

const COST_PARTS = ["input", "output", "cached_input", "cache_write"] as const;

/** A target's prices: each part per 1k or per 1M tokens (not both). */
export const costSchema = z
  .object(
    Object.fromEntries(
      COST_PARTS.flatMap((p) => [
        [`${p}_per_1k`, nonNegative().optional()],
        [`${p}_per_1m`, nonNegative().optional()],
      ]),
    ) as Record<`${(typeof COST_PARTS)[number]}_per_${"1k" | "1m"}`, z.ZodOptional<ReturnType<typeof nonNegative>>>,
  )
  .strict()
  .superRefine((cost, ctx) => {
    for (const p of COST_PARTS)
      if (cost[`${p}_per_1k`] !== undefined && cost[`${p}_per_1m`] !== undefined)
        ctx.addIssue({ code: "custom", path: [`${p}_per_1m`], message: `give ${p}_per_1k or ${p}_per_1m, not both` });
  });
export type CostConfig = z.output<typeof costSchema>;

/** A target's fields as written (before the cross-field checks): what an admin patch may set. */
export const targetFields = z
  .object({
    id: nonEmpty("target id"),
    provider: z.enum(PROVIDER_NAMES, { error: `must be one of ${PROVIDER_NAMES.join(", ")}` }),
    /** Default: the provider's public API (openai, anthropic, gemini, groq…); required for azure, openai-compatible, rest. */
    base_url: url.optional(),
    key: z.string({ error: "must be a string" }).optional(),
    /** The upstream model name sent to this target (an alias the client asked for is rewritten). */
    model: z.string().min(1).optional(),
    weight: positive().default(1),
    tier: positiveInt().default(1),
    /** Prices in USD per 1k or per 1M tokens; over the shipped price table (providers/prices.json). */
    cost: costSchema.optional(),
    quality: nonNegative().default(0),
    /**
     * Outbound limits of this target: calls in flight, and the quota the gateway keeps it under
     * (resilience/target-quota.ts): `rpm` requests and `tpm` tokens per `window_s` (60 s: per
     * minute; 1 for a per-second quota, 86400 for a daily one).
     */
    limits: z
      .object({
        max_concurrent: positiveInt().optional(),
        rpm: positiveInt().optional(),
        tpm: positiveInt().optional(),
        window_s: positive().max(86_400, { error: "must be <= 86400 (a day)" }).default(60),
      })
      .strict()
      .prefault({}),
    timeouts: timeoutsSchema.default({}),
    auth: authSchema.optional(),
    /** Extra headers sent upstream with every call to this target. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Extra query parameters sent with every call (Azure's `api-version`, a vendor's fixed `function=`). */
    query: z.record(z.string(), z.string({ error: "must be a string" })).default({}),
    /**
     * A request field this target's dialect cannot carry: `drop` it and say so in
     * x-switchyard-warnings, or `reject`: the target is skipped for that request.
     */
    on_unsupported: z.enum(["drop", "reject"], { error: "must be drop or reject" }).default("drop"),
    /**
     * A streamed chat to an OpenAI-format target asks for usage (`stream_options.include_usage`)
     * so its cost is known, and the extra usage chunk is kept from a client that did not ask;
     * false for a server that rejects the field.
     */
    stream_usage: z.boolean({ error: "must be true or false" }).default(true),
    /**
     * REST: the vendor's path. A template (`/v2/quote/{symbol}`, placeholders filled from the
     * client's query parameters) or a map from the client's sub-path to a template.
     */
    path: z
      .union(
        [
          z.string().regex(/^\//, { error: "must start with /" }),
          z.record(z.string().regex(/^\//, { error: "must start with /" }), z.string().regex(/^\//, { error: "must start with /" })),
        ],
        { error: "must be a path template or a map of client path → template" },
      )
      .optional(),
    /** REST: query parameter renames, client name → vendor name (`{symbol: ticker}`). */
    params: z.record(z.string(), nonEmpty("vendor parameter name")).optional(),
    /** REST: a JS module (path relative to the config file) whose function maps this vendor's JSON to the service's shape. */
    response_mapper: nonEmpty("module path").optional(),
    /** Per-target overrides of the route's policies (any field; the rest is inherited). */
    breaker: overrideOf(breakerSchema).optional(),
    health_check: overrideOf(healthCheckSchema).optional(),
  })
  .strict();

export const targetSchema = targetFields
  .superRefine((t, ctx) => {
    if (t.provider !== "rest")
      for (const field of ["path", "params", "response_mapper"] as const)
        if (t[field] !== undefined)
          ctx.addIssue({ code: "custom", path: [field], message: `only applies to provider rest (got ${t.provider})` });
    const adapter = PROVIDERS[t.provider];
    if (t.base_url === undefined) {
      if (adapter.baseUrl === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["base_url"],
          message: `is required for provider ${t.provider} (like ${adapter.baseUrlExample})`,
        });
      return;
    }
    if (t.base_url.includes("{") && adapter.wire !== "openai")
      ctx.addIssue({
        code: "custom",
        path: ["base_url"],
        message: "a {model} placeholder is only for OpenAI-dialect targets (openai, azure, openai-compatible…)",
      });
    const slots = t.base_url.match(/\{[^}]*\}/g) ?? [];
    for (const s of slots)
      if (s !== "{model}") ctx.addIssue({ code: "custom", path: ["base_url"], message: `unknown placeholder ${s} (only {model})` });
  })
  // The provider's own URL when the target names none: what `validate` prints is what runs.
  .transform((t) => ({ ...t, base_url: t.base_url ?? PROVIDERS[t.provider].baseUrl ?? "" }));

/**
 * Where a route's targets come from besides its list (control/discovery.ts): a watched file of
 * target objects and/or DNS SRV records asked again every interval_s. Each discovered target is
 * the template with its own fields over it; a change goes through a reload like a file change.
 */
export const discoverySchema = z
  .object({
    /** A JSON or YAML list of target objects (path relative to the config file). */
    file: nonEmpty("file path").optional(),
    /** An SRV name (`_llm._tcp.example.internal`): each record becomes a target `srv-<host>-<port>`. */
    dns_srv: nonEmpty("SRV name").optional(),
    /** The DNS server to ask, `host:port` (a private resolver); default: the system's. */
    dns_server: z
      .string()
      .regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/, { error: "must be host:port" })
      .optional(),
    /** How often the SRV name is asked again, in seconds. */
    interval_s: positive().default(30),
    /** An SRV target's base URL is `<scheme>://<host>:<port><base_path>`. */
    scheme: z.enum(["http", "https"], { error: "must be http or https" }).default("http"),
    base_path: z
      .string()
      .regex(/^(\/.*[^/])?$/, { error: "must be empty or start with / and not end with /" })
      .default(""),
    /** Target fields every discovered target starts from (provider, key, model, weight…). */
    template: targetFields.omit({ id: true, base_url: true }).partial().prefault({}),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.file === undefined && d.dns_srv === undefined)
      ctx.addIssue({ code: "custom", path: ["file"], message: "give file or dns_srv (or both)" });
    if (d.dns_srv !== undefined && d.template.provider === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["template", "provider"],
        message: "is required with dns_srv (SRV records name only host and port)",
      });
  });
export type DiscoveryConfig = z.output<typeof discoverySchema>;

export const routeSchema = z
  .object({
    name: nonEmpty("route name"),
    surface: z.enum(SURFACES, { error: `must be one of ${SURFACES.join(", ")}` }),
    /** Model names this route serves (LLM surfaces). "*" serves any model. */
    models: z.array(nonEmpty("model name")).default([]),
    /** REST service name: clients call /rest/<service>/<path> (or <prefix>/<path>). */
    service: z.string().min(1).optional(),
    /**
     * Mount the route under this path prefix, e.g. /lb (LLM surfaces) or /quotes (REST). An LLM
     * prefix may hold `{name}` segments matching any one segment: /{tenant}/lb.
     */
    prefix: z
      .string()
      .regex(PREFIX, {
        error: "must start with / and not end with /; segments hold letters, digits, . _ ~ - or are a {name} wildcard (/{tenant}/lb)",
      })
      .optional(),
    strategy: strategyEnum().default("round-robin"),
    fallback_strategy: strategyEnum().optional(),
    /** Options for the chosen strategies, by strategy name. */
    strategy_options: z.record(z.string(), z.unknown()).default({}),
    retry: retryPolicySchema.prefault({}),
    breaker: breakerSchema.prefault({}),
    /** Active health checks: off unless present. */
    health_check: healthCheckSchema.optional(),
    key_disable: keyDisableSchema.prefault({}),
    rate_limits: rateLimitAwarenessSchema.prefault({}),
    hedge: hedgeSchema.prefault({}),
    queue: queueSchema.prefault({}),
    /**
     * When every target is out: `fail` at once (503, or 429 when rate limits are all that stand
     * in the way, with Retry-After); `wait` in the queue until one is back (queue.timeout_ms, the
     * request's deadline); `soonest`: wait for the target whose cooldown ends first when that is
     * within those bounds, else fail at once. Unset: on a route with quotas (limits.rpm / tpm),
     * `wait` when the targets are out only for rate limits (a quota, a provider's 429) or busy;
     * elsewhere `fail` (queue.wait_when_unavailable: true means `wait`). Waiting needs a queue
     * (queue.size > 0).
     */
    when_all_unavailable: z.enum(["fail", "wait", "soonest"], { error: "must be one of fail, wait, soonest" }).optional(),
    slow_start: slowStartSchema.prefault({}),
    timeouts: timeoutsSchema.default({}),
    /** Inbound limits of this route (all its clients together). */
    limits: inboundLimitsSchema.default({}),
    /** Spend caps of this route. */
    budget: budgetSchema.optional(),
    /** The response cache of this route (off when absent); where entries live is the top-level `cache`. */
    cache: routeCacheSchema.optional(),
    /** Embedding requests batched into one upstream call (off when absent). */
    batching: batchingSchema.optional(),
    /** Targets found at run time (a file, DNS SRV), added to `targets`. */
    discovery: discoverySchema.optional(),
    targets: z.array(targetSchema, { error: "must be a list of targets" }),
  })
  .strict()
  .superRefine((route, ctx) => {
    // With discovery the list may start empty: the targets come from the file or DNS.
    if (route.targets.length === 0 && route.discovery === undefined)
      ctx.addIssue({ code: "custom", path: ["targets"], message: "must list at least one target (or find them: discovery)" });
    const mode = route.when_all_unavailable;
    if (mode !== undefined && mode !== "wait" && route.queue.wait_when_unavailable)
      ctx.addIssue({
        code: "custom",
        path: ["when_all_unavailable"],
        message: `is ${mode} but queue.wait_when_unavailable (its older name for wait) is true`,
      });
    if ((mode === "wait" || mode === "soonest") && route.queue.size === 0)
      ctx.addIssue({
        code: "custom",
        path: ["queue", "size"],
        message: `must be > 0: requests wait in the queue (when_all_unavailable: ${mode})`,
      });
  });

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: z.number().int().min(0).max(65535, { error: "must be a port number 0-65535" }).default(8080),
        max_body_bytes: positiveInt().default(10 * 1024 * 1024),
        drain_timeout_ms: nonNegative().default(30_000),
        /** How long a client may take to send its request headers and body (0 = no limit). */
        request_timeout_ms: nonNegative().default(60_000),
        /** How long a client may take to send its request headers (a slowloris is cut here; at most request_timeout_ms; 0 = no limit). */
        headers_timeout_ms: nonNegative().default(30_000),
        /** How long an idle keep-alive connection stays open: longer than a load balancer's 60 s, so the balancer closes first. */
        keep_alive_timeout_ms: nonNegative().default(65_000),
        /** Requests one connection may carry before the gateway closes it (0 = no limit). */
        max_requests_per_socket: nonNegative().int({ error: "must be an integer" }).default(0),
        /** Most request headers accepted (431 above). */
        max_headers: positiveInt().default(100),
        /** Largest request line plus headers, in bytes (431 above). */
        max_header_bytes: positiveInt()
          .min(1024, { error: "must be at least 1024" })
          .default(16 * 1024),
        /** The WebSocket front (GET /v1/stream): ping period (a peer silent for one period is dropped), requests in flight per connection. */
        websocket: z
          .object({ ping_interval_ms: positiveInt().default(30_000), max_in_flight: positiveInt().default(32) })
          .strict()
          .default({ ping_interval_ms: 30_000, max_in_flight: 32 }),
      })
      .strict()
      .default({
        host: "127.0.0.1",
        port: 8080,
        max_body_bytes: 10 * 1024 * 1024,
        drain_timeout_ms: 30_000,
        request_timeout_ms: 60_000,
        headers_timeout_ms: 30_000,
        keep_alive_timeout_ms: 65_000,
        max_requests_per_socket: 0,
        max_headers: 100,
        max_header_bytes: 16 * 1024,
        websocket: { ping_interval_ms: 30_000, max_in_flight: 32 },
      }),
    admin: z
      .object({
        enabled: z.boolean().default(true),
        /** When set, /admin/* needs `Authorization: Bearer <token>`. */
        token: z.string().min(8, { error: "must be at least 8 characters" }).optional(),
        /** Serve the admin API and the dashboard on their own listener (then the main one refuses them). */
        port: z.number().int().min(0).max(65535, { error: "must be a port number 0-65535" }).optional(),
        /** The admin listener's address (default: server.host). */
        host: z.string().min(1).optional(),
      })
      .strict()
      .default({ enabled: true }),
    log: logSchema.prefault({}),
    metrics: metricsSchema.prefault({}),
    store: storeSchema.prefault({}),
    usage: usageSchema.prefault({}),
    tracing: tracingSchema.prefault({}),
    alerts: alertsSchema.prefault({}),
    /** How the running gateway takes a changed config (SIGHUP and POST /admin/reload always work). */
    reload: z
      .object({
        /** Reload when the config file changes. */
        watch: z.boolean({ error: "must be true or false" }).default(false),
        /** Wait this long after the last change to the file before reading it (editors write in steps). */
        debounce_ms: nonNegative().default(300),
      })
      .strict()
      .default({ watch: false, debounce_ms: 300 }),
    upstream: z
      .object({
        /** Max connections per upstream origin. */
        connections: positiveInt().default(256),
        keep_alive_ms: positiveInt().default(30_000),
      })
      .strict()
      .default({ connections: 256, keep_alive_ms: 30_000 }),
    /** Client keys: none → anyone may call (the demo); some → every request needs one. */
    client_keys: clientKeysSchema.default([]),
    /** Gateway-wide inbound limits (the simulator document's token bucket: {rps: 1000, burst: 1000}). */
    limits: inboundLimitsSchema.default({}),
    cors: corsSchema.prefault({}),
    /** Where the response cache keeps entries (routes say what they cache: routes[].cache). */
    cache: cacheStoreSchema.prefault({}),
    /** State shared by every instance of one gateway through Redis (absent: each process alone). */
    shared: sharedSchema.optional(),
    /** Defaults for every route's timeouts (a route's and a target's own values win). */
    timeouts: timeoutsSchema.default({}),
    routes: z.array(routeSchema).min(1, { error: "must list at least one route" }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    const claimed = new Map<string, string>();
    cfg.routes.forEach((route, i) => {
      if (names.has(route.name))
        ctx.addIssue({ code: "custom", path: ["routes", i, "name"], message: `duplicate route name "${route.name}"` });
      names.add(route.name);
      const ids = new Set<string>();
      route.targets.forEach((t, j) => {
        if (ids.has(t.id))
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "targets", j, "id"],
            message: `duplicate target id "${t.id}" in route "${route.name}"`,
          });
        ids.add(t.id);
        if (t.auth && (t.auth.type === "header" || t.auth.type === "query") && !t.auth.name)
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "targets", j, "auth", "name"],
            message: `is required when auth.type is ${t.auth.type}`,
          });
        if (route.surface === "rest" && t.provider !== "rest")
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "targets", j, "provider"],
            message: `must be rest on a rest route (got ${t.provider})`,
          });
        if (route.surface !== "rest" && t.provider === "rest")
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "targets", j, "provider"],
            message: `rest targets belong on a route with surface: rest`,
          });
      });
      if (route.surface === "rest") {
        if (!route.service && !route.prefix)
          ctx.addIssue({ code: "custom", path: ["routes", i, "service"], message: "a rest route needs a service name (or a prefix)" });
      } else if (route.models.length === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["routes", i, "models"],
          message: `must list at least one model name (or "*") for surface ${route.surface}`,
        });
      }
      const scope = route.surface === "rest" ? `rest:${route.prefix ?? ""}:${route.service}` : `${route.surface}:${route.prefix ?? ""}`;
      const keys = route.surface === "rest" ? [""] : route.models;
      keys.forEach((m, k) => {
        const key = `${scope}:${m}`;
        const owner = claimed.get(key);
        if (owner !== undefined)
          ctx.addIssue({
            code: "custom",
            path: route.surface === "rest" ? ["routes", i, "service"] : ["routes", i, "models", k],
            message:
              route.surface === "rest"
                ? `service "${route.service}" is already served by route "${owner}"`
                : `model "${m}" is already served by route "${owner}" on this surface`,
          });
        else claimed.set(key, route.name);
      });
      if (route.prefix?.includes("{") === true && route.surface === "rest")
        ctx.addIssue({ code: "custom", path: ["routes", i, "prefix"], message: "{name} segments are only for LLM routes (not rest)" });
    });
    checkPrefixOverlaps(cfg.routes, ctx);
    checkBudgetFallbacks(cfg.routes, ctx);
  });

/**
 * The router picks an LLM prefix from the path alone, before it knows the surface or model: two
 * different prefixes that could match one path (`/{a}/lb` and `/{b}/lb`, or `/acme/lb` and
 * `/{tenant}/lb`) would leave one route unreachable there, so they are an error. Routes meant to
 * share paths share one prefix, spelled the same.
 */
function checkPrefixOverlaps(
  routes: readonly { name: string; surface: string; prefix?: string | undefined }[],
  ctx: z.RefinementCtx,
): void {
  const seen = new Map<string, string>();
  routes.forEach((route, i) => {
    const prefix = route.prefix;
    if (route.surface === "rest" || prefix === undefined || seen.has(prefix)) return;
    for (const [other, owner] of seen)
      if (prefixesOverlap(prefix, other))
        ctx.addIssue({
          code: "custom",
          path: ["routes", i, "prefix"],
          message: `"${prefix}" could match the same paths as prefix "${other}" of route "${owner}"; routes that share paths must share one prefix, spelled the same`,
        });
    seen.set(prefix, route.name);
  });
}

/** Could some path match both prefixes (same segment count; each segment equal or a wildcard on either side)? */
function prefixesOverlap(a: string, b: string): boolean {
  const x = a.split("/");
  const y = b.split("/");
  if (x.length !== y.length) return false;
  return x.every((s, k) => {
    const t = y[k] as string;
    return s === t || s.startsWith("{") || t.startsWith("{");
  });
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type Timeouts = z.output<typeof timeoutsSchema>;
export type Surface = (typeof SURFACES)[number] & WireFormat;
export type ProviderKind = ProviderName;
export type StrategyName = (typeof STRATEGIES)[number];
