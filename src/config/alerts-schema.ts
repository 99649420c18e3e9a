/** Alerts: rules that fire once and resolve, sent to webhook and email channels. */
import { z } from "zod";

const positiveInt = () => z.number({ error: "must be a number" }).int({ error: "must be an integer" }).positive({ error: "must be > 0" });
const nonEmpty = (what: string) => z.string({ error: `must be a string (${what})` }).min(1, { error: `must not be empty (${what})` });

export const ALERT_KINDS = ["breaker_open", "route_availability", "latency_p95", "error_rate", "key_disabled", "daily_cost"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

const webhookSchema = z
  .object({
    type: z.literal("webhook"),
    name: nonEmpty("channel name"),
    url: z.string().url({ error: "must be a URL" }),
    /** When set, each body is signed: `x-switchyard-signature: sha256=<hex HMAC-SHA256 of the body bytes>`, with `x-switchyard-timestamp` (unix s). */
    secret: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    timeout_ms: positiveInt().default(5000),
  })
  .strict();

const emailSchema = z
  .object({
    type: z.literal("email"),
    name: nonEmpty("channel name"),
    smtp: z
      .object({
        host: nonEmpty("SMTP host"),
        port: z.number().int().min(1).max(65535).default(587),
        /** TLS from the start (465); otherwise STARTTLS when the server offers it. */
        secure: z.boolean().default(false),
        user: z.string().optional(),
        pass: z.string().optional(),
      })
      .strict(),
    from: nonEmpty("from address"),
    to: z.array(nonEmpty("to address")).min(1, { error: "must list at least one address" }),
    timeout_ms: positiveInt().default(10_000),
  })
  .strict();

export const alertChannelSchema = z.discriminatedUnion("type", [webhookSchema, emailSchema], {
  error: "must be a channel with type webhook or email",
});

export const alertRuleSchema = z
  .object({
    kind: z.enum(ALERT_KINDS, { error: `must be one of ${ALERT_KINDS.join(", ")}` }),
    /** Defaults to the kind. */
    name: z.string().min(1).optional(),
    /**
     * route_availability: share of targets available below which it fires (0.5);
     * latency_p95: ms (5000); error_rate: share of failed requests (0.2);
     * daily_cost: USD per UTC day (required).
     */
    threshold: z.number().nonnegative().optional(),
    /** The window the latency and error-rate rules read. */
    window: z.enum(["1m", "5m", "1h"]).default("5m"),
    /** error_rate and latency_p95 need at least this many requests in the window. */
    min_requests: positiveInt().default(20),
    /** Only this route (default: every route). */
    route: z.string().min(1).optional(),
    /** Channel names (default: every channel). */
    channels: z.array(z.string().min(1)).optional(),
    /** Seconds before the same rule may fire again for the same subject after it resolved (default: alerts.cooldown_s). */
    cooldown_s: z.number().nonnegative().optional(),
  })
  .strict();

export const alertsSchema = z
  .object({
    channels: z.array(alertChannelSchema).default([]),
    /** Default when channels are set: every kind but daily_cost (which needs a threshold). */
    rules: z.array(alertRuleSchema).optional(),
    cooldown_s: z.number().nonnegative().default(300),
    /** How often the windowed rules (availability, latency, error rate, cost) are evaluated. */
    evaluate_every_ms: positiveInt().default(5000),
    /** A delivery that fails is retried with exponential backoff this many times, then logged. */
    retries: z.number().int().min(0).default(5),
    retry_base_ms: positiveInt().default(1000),
  })
  .strict()
  .superRefine((a, ctx) => {
    const names = new Set(a.channels.map((c) => c.name));
    if (names.size !== a.channels.length) ctx.addIssue({ code: "custom", path: ["channels"], message: "channel names must be unique" });
    a.rules?.forEach((r, i) => {
      for (const c of r.channels ?? [])
        if (!names.has(c)) ctx.addIssue({ code: "custom", path: ["rules", i, "channels"], message: `unknown channel "${c}"` });
      if (r.kind === "daily_cost" && r.threshold === undefined)
        ctx.addIssue({ code: "custom", path: ["rules", i, "threshold"], message: "daily_cost needs a threshold in USD" });
      if ((r.kind === "route_availability" || r.kind === "error_rate") && r.threshold !== undefined && r.threshold > 1)
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "threshold"],
          message: `${r.kind} takes a share between 0 and 1, got ${r.threshold}`,
        });
    });
    // An alert's subject is (rule name, route, target): two rules of one name may share no route,
    // or their alerts would silence each other.
    const scopes = new Map<string, (string | undefined)[]>();
    a.rules?.forEach((r, i) => {
      const name = r.name ?? r.kind;
      const seen = scopes.get(name) ?? [];
      if (seen.some((route) => route === undefined || r.route === undefined || route === r.route))
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "name"],
          message: `another rule named "${name}" covers the same routes: give one a name`,
        });
      seen.push(r.route);
      scopes.set(name, seen);
    });
  });

export type AlertsConfig = z.output<typeof alertsSchema>;
export type AlertRuleConfig = z.output<typeof alertRuleSchema>;
export type AlertChannelConfig = z.output<typeof alertChannelSchema>;
