/**
 * The observability blocks of the config: metrics, the SQLite store and its usage ledger,
 * tracing, the access log. Alerts have their own file (alerts-schema.ts).
 */
import { z } from "zod";

const positiveInt = () => z.number({ error: "must be a number" }).int({ error: "must be an integer" }).positive({ error: "must be > 0" });
const port = () => z.number({ error: "must be a number" }).int().min(0).max(65535, { error: "must be a port number 0-65535" });

/** Prometheus: `GET /metrics` on the main listener, and on its own when `port` is set (the simulator deployment expects 9090). */
export const metricsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A second listener for /metrics only (e.g. 9090); none when unset. */
    port: port().optional(),
    host: z.string().min(1).default("127.0.0.1"),
    /** Also serve /metrics on the main listener. */
    on_main_listener: z.boolean().default(true),
    /** Node process metrics (CPU, memory, event-loop lag, GC) with the `switchyard_process_` prefix. */
    process: z.boolean().default(true),
  })
  .strict();

/**
 * The SQLite file the gateway keeps what must survive a restart in (usage today; client keys and
 * persisted state later). Default: `switchyard.db` beside the config file; `:memory:` when the
 * config did not come from a file (the demo, the environment shortcut, createGateway).
 */
export const storeSchema = z
  .object({
    path: z.string().min(1).optional(),
  })
  .strict();

/** The usage ledger: requests, errors, tokens and cost per hour × route × target × model, in the store. */
export const usageSchema = z
  .object({
    enabled: z.boolean().default(true),
    retention_days: positiveInt().default(90),
    /** How often the gathered rows are written (one transaction each time). */
    flush_ms: positiveInt().default(1000),
  })
  .strict();

/** OpenTelemetry traces: a span per request and per attempt. Off by default. */
export const tracingSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** otlp: OTLP/HTTP JSON to `endpoint`; console: spans to stdout (debugging); none: spans made, not exported (an SDK set up by the host app exports them). */
    exporter: z.enum(["otlp", "console", "none"], { error: "must be otlp, console or none" }).default("otlp"),
    /** OTLP/HTTP traces endpoint. */
    endpoint: z.string().url({ error: "must be a URL" }).default("http://127.0.0.1:4318/v1/traces"),
    headers: z.record(z.string(), z.string()).default({}),
    service_name: z.string().min(1).default("switchyard"),
    /** Share of requests traced (parent-based: a sampled incoming traceparent is always followed). */
    sample_ratio: z.number().min(0).max(1, { error: "must be between 0 and 1" }).default(1),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    /** One access line per request at info level. */
    access: z.boolean().default(true),
  })
  .strict();
