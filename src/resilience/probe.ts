import { type Dispatcher, request } from "undici";
import type { Target } from "../core/target.js";

/** Bodies are read for a status or a model list only: a probe must not make us buffer megabytes. */
const BODY_LIMIT = 256 * 1024;

export interface ProbeOptions {
  /** Path from the target's base path; default: the adapter's cheap call (GET …/models, /health). */
  readonly path?: string | undefined;
  readonly method?: "GET" | "HEAD" | "POST";
  readonly timeoutMs: number;
  /** undici dispatcher (default: undici's global one). */
  readonly dispatcher?: Dispatcher | undefined;
  /** Aborts the probe (shutdown). */
  readonly signal?: AbortSignal | undefined;
}

/** What a probe saw: the status and body, or why there was none. */
export interface ProbeAnswer {
  /** HTTP status; 0 when no response came (timeout, refused). */
  readonly status: number;
  /** The body's start (up to 256 KiB); "" without a response. */
  readonly body: string;
  /** Without a response: `timeout after 5000 ms`, `connection failed: ECONNREFUSED`, or `aborted`. */
  readonly failure: string;
  readonly latencyMs: number;
}

/**
 * The URL of a target's cheap call, built like every request to it: its address (base path
 * with the `{model}` slot filled with the target's model, its fixed query — Azure's api-version
 * — and a query-placed key) around the adapter's health path or the configured one.
 */
export function probeUrl(target: Target, path?: string): string {
  const a = target.address;
  const base = a.basePathFor(target.model ?? "");
  return a.origin + a.withQuery(path === undefined ? target.adapter.healthPath(base) : base + path, "");
}

/**
 * Sends the target's cheap call (a health check, a key probe, a breaker's recovery probe, the
 * model list) with its key, fixed headers and the adapter's defaults, under its own timeout
 * (our timer and AbortController: a signal made by AbortSignal.any() with a timeout can be
 * collected and never fire). Never throws.
 */
export async function sendProbe(target: Target, o: ProbeOptions): Promise<ProbeAnswer> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), o.timeoutMs);
  timer.unref();
  const outer = o.signal;
  const onOuterAbort = (): void => controller.abort();
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  const headers: Record<string, string> = {
    accept: "application/json",
    "user-agent": "switchyard-probe",
    ...target.defaultHeaders,
    ...target.headers,
  };
  if (target.authHeaderName !== "") headers[target.authHeaderName] = target.authHeaderValue;
  try {
    const res = await request(probeUrl(target, o.path), {
      method: o.method ?? "GET",
      headers,
      signal: controller.signal,
      dispatcher: o.dispatcher,
    });
    const body = await readCapped(res.body);
    return { status: res.statusCode, body, failure: "", latencyMs: performance.now() - started };
  } catch (err) {
    const latencyMs = performance.now() - started;
    if (outer?.aborted) return { status: 0, body: "", failure: "aborted", latencyMs };
    if (controller.signal.aborted) return { status: 0, body: "", failure: `timeout after ${o.timeoutMs} ms`, latencyMs };
    const code = (err as { code?: string }).code;
    return { status: 0, body: "", failure: `connection failed: ${code ?? (err as Error).message}`, latencyMs };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuterAbort);
  }
}

async function readCapped(body: Dispatcher.ResponseData["body"]): Promise<string> {
  let text = "";
  for await (const chunk of body) {
    text += (chunk as Buffer).toString();
    if (text.length > BODY_LIMIT) {
      body.destroy();
      break;
    }
  }
  return text;
}
