/**
 * Options of a simulated provider: the types, the defaults, and the schema that checks options
 * arriving as data (YAML for `switchyard simulate providers`, JSON for `POST /_sim/config`).
 * Every option except dialect, host, port and control_port can change while the provider runs.
 */
import { z } from "zod";

export const SIM_DIALECTS = ["openai", "anthropic", "gemini", "rest"] as const;
export type SimDialect = (typeof SIM_DIALECTS)[number];

/** What a REST sim's `rest_response` function is given. */
export interface RestRequestInfo {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  key: string;
}

export interface SimOptions {
  dialect: SimDialect;
  /** Shows in responses (REST `source`, model `owned_by`, the `x-sim-name` header). */
  name?: string;
  host?: string;
  port?: number;
  /**
   * Port of the always-up control listener (same host; 0 = chosen by the OS): the control API
   * there keeps answering while `down` refuses connections on `port`.
   */
  control_port?: number;
  /** Time before the response headers; jitter is uniform in ±jitter_ms. */
  latency_ms?: number;
  jitter_ms?: number;
  /** Fraction 0..1 answered with error_status (default 500) in the dialect's error shape. */
  error_rate?: number;
  error_status?: number;
  /**
   * Fraction 0..1 answered 429 with Retry-After = retry_after_s (default 1); Gemini sends no
   * Retry-After header, only RetryInfo (retryDelay in whole seconds) in the body, as the real API.
   */
  rate_limit_rate?: number;
  retry_after_s?: number;
  /** Per key fixed window: over quota → 429, Retry-After (Gemini: RetryInfo) = seconds until the window resets. */
  key_quota?: { requests: number; window_s: number };
  /** Keys answered 401 (a missing key is 401 too when require_key). */
  revoked_keys?: string[];
  /**
   * Keys out of credits / billing quota, answered as the provider does: OpenAI 429
   * `insufficient_quota`, Anthropic 400 "credit balance is too low", Gemini 429
   * RESOURCE_EXHAUSTED without RetryInfo, REST 402. Not to be retried.
   */
  exhausted_keys?: string[];
  /** Default true for LLM dialects, false for rest. */
  require_key?: boolean;
  /** Accept and read the body, never answer (until the client closes). */
  hang?: boolean;
  /** Reset the connection (TCP RST) upon request: the client sees ECONNRESET. */
  reset?: boolean;
  /**
   * Stop listening on `port` (connections refused); false brings the same port back. The
   * control listener (control_port) stays up, so `down: false` can be sent over HTTP.
   */
  down?: boolean;
  /** Content chunks per streamed response (default 8). */
  stream_chunks?: number;
  /** Pause between SSE events (default 0). */
  chunk_interval_ms?: number;
  /**
   * Destroy the socket after N SSE events of a stream (counting every event written: role
   * chunk, message_start, ping… included); 0 = right after the 200 headers.
   */
  drop_after_chunks?: number;
  /**
   * After N SSE events, send the dialect's in-stream error event (OpenAI `data: {"error":…}`,
   * Anthropic `event: error` overloaded_error, Gemini `data: {"error":…}`) and end the stream:
   * a failure after the 200.
   */
  stream_error_after_chunks?: number;
  /** Words in a completion (default 16). */
  completion_tokens?: number;
  /** Body of a REST answer; default echoes {source, name, method, path, query, body}. */
  rest_response?: (req: RestRequestInfo) => unknown;
  /** Status of GET /health (default 200). */
  health_status?: number;
  /** Seed for the error / 429 / jitter dice; without it Math.random decides. */
  seed?: number;
}

type OptionalKeys = "key_quota" | "drop_after_chunks" | "stream_error_after_chunks" | "rest_response" | "seed";
/** Options with defaults filled in: what a request reads. */
export type ResolvedSimOptions = Required<Omit<SimOptions, OptionalKeys>> & Pick<SimOptions, OptionalKeys>;

export function defaultSimOptions(dialect: SimDialect): ResolvedSimOptions {
  return {
    dialect,
    name: `sim-${dialect}`,
    host: "127.0.0.1",
    port: 0,
    control_port: 0,
    latency_ms: 0,
    jitter_ms: 0,
    error_rate: 0,
    error_status: 500,
    rate_limit_rate: 0,
    retry_after_s: 1,
    key_quota: undefined,
    revoked_keys: [],
    exhausted_keys: [],
    require_key: dialect !== "rest",
    hang: false,
    reset: false,
    down: false,
    stream_chunks: 8,
    chunk_interval_ms: 0,
    drop_after_chunks: undefined,
    stream_error_after_chunks: undefined,
    completion_tokens: 16,
    rest_response: undefined,
    health_status: 200,
    seed: undefined,
  };
}

const nonNegative = () => z.number({ error: "must be a number" }).nonnegative({ error: "must be >= 0" });
const fraction = () => z.number({ error: "must be a number" }).min(0, { error: "must be >= 0" }).max(1, { error: "must be <= 1" });
const int = () => z.number({ error: "must be a number" }).int({ error: "must be an integer" });
const status = () => int().min(100, { error: "must be an HTTP status" }).max(599, { error: "must be an HTTP status" });

/** Options as data (no functions). `null` clears an optional option. */
export const simOptionsSchema = z
  .object({
    dialect: z.enum(SIM_DIALECTS, { error: `must be one of ${SIM_DIALECTS.join(", ")}` }),
    name: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: int().min(0).max(65535).optional(),
    control_port: int().min(0).max(65535).optional(),
    latency_ms: nonNegative().optional(),
    jitter_ms: nonNegative().optional(),
    error_rate: fraction().optional(),
    error_status: status().optional(),
    rate_limit_rate: fraction().optional(),
    retry_after_s: nonNegative().optional(),
    key_quota: z
      .object({ requests: int().positive({ error: "must be > 0" }), window_s: z.number().positive({ error: "must be > 0" }) })
      .strict()
      .nullable()
      .optional(),
    revoked_keys: z.array(z.string()).optional(),
    exhausted_keys: z.array(z.string()).optional(),
    require_key: z.boolean().optional(),
    hang: z.boolean().optional(),
    reset: z.boolean().optional(),
    down: z.boolean().optional(),
    stream_chunks: int().min(1, { error: "must be >= 1" }).optional(),
    chunk_interval_ms: nonNegative().optional(),
    drop_after_chunks: int().min(0, { error: "must be >= 0" }).nullable().optional(),
    stream_error_after_chunks: int().min(0, { error: "must be >= 0" }).nullable().optional(),
    completion_tokens: int().min(1, { error: "must be >= 1" }).optional(),
    health_status: status().optional(),
    seed: int().nullable().optional(),
  })
  .strict();

const runTimeShape = simOptionsSchema.omit({ dialect: true, host: true, port: true, control_port: true }).shape;

/** What `POST /_sim/config` accepts: every run-time option; `null` restores an option's default. */
export const simOptionsPatchSchema = z
  .object(
    Object.fromEntries(Object.entries(runTimeShape).map(([k, s]) => [k, (s as z.ZodType).nullable().optional()])) as {
      [K in keyof typeof runTimeShape]: z.ZodOptional<z.ZodNullable<(typeof runTimeShape)[K]>>;
    },
  )
  .strict();

/** Turns parsed data (null meaning "back to the default") into a typed patch. */
export function patchFromData(data: Record<string, unknown>): Partial<SimOptions> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(data)) out[k] = data[k] === null ? undefined : data[k];
  return out;
}

/** Keys set() ignores: fixed for the provider's life. */
export const FIXED_KEYS: ReadonlySet<string> = new Set(["dialect", "host", "port", "control_port"]);
