/**
 * The load generator behind `switchyard simulate load`, the demo and the bench: `concurrency`
 * workers share one undici Pool (one connection each) and send requests back to back until the
 * count or the duration is reached, reading every body to the end (streams included).
 */
import { Pool } from "undici";
import { formatProgress, LoadRecorder, summarize, type LoadProgress, type LoadReport } from "./report.js";

export type { LoadProgress, LoadReport } from "./report.js";
export { formatReport, formatProgress } from "./report.js";

export interface LoadOptions {
  /** Gateway URL; a path in it prefixes `path` (http://host:8080/lb + /v1/chat/completions). */
  url: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | (() => string);
  concurrency: number;
  /** Stop after this long (requests in flight then finish); one of durationMs / requests is required. */
  durationMs?: number;
  /** Stop after this many requests. */
  requests?: number;
  /** The body is a stream: read it chunk by chunk (it is read to the end either way). */
  stream?: boolean;
  onProgress?: (p: LoadProgress) => void;
  progressIntervalMs?: number;
  /** Per request, for headers and between body chunks (default 30 s). */
  timeoutMs?: number;
}

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/** How a failed request is counted: `timeout`, `connection_closed`, or the error's code. */
export function errorKind(err: unknown): string {
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return "timeout";
  if (code === "UND_ERR_SOCKET") return "connection_closed";
  return code ?? e.name ?? "error";
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  if (!(o.concurrency >= 1)) throw new Error("runLoad: concurrency must be >= 1");
  if (o.durationMs === undefined && o.requests === undefined) throw new Error("runLoad: set durationMs or requests");
  const u = new URL(o.url);
  const base = u.pathname.replace(/\/+$/, "");
  const path = o.path !== undefined ? base + o.path : u.pathname + u.search;
  const method = (o.method ?? (o.body !== undefined ? "POST" : "GET")).toUpperCase();
  const headers: Record<string, string> = { ...o.headers };
  if (o.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
    headers["content-type"] = "application/json";
  const timeout = o.timeoutMs ?? 30_000;
  const pool = new Pool(u.origin, { connections: o.concurrency, headersTimeout: timeout, bodyTimeout: timeout });
  const rec = new LoadRecorder();
  const maxRequests = o.requests ?? Infinity;
  const start = performance.now();
  const deadline = o.durationMs !== undefined ? start + o.durationMs : Infinity;
  let issued = 0;
  let inFlight = 0;

  const one = async (): Promise<void> => {
    const t0 = performance.now();
    let target: string | undefined;
    try {
      const body = typeof o.body === "function" ? o.body() : o.body;
      const res = await pool.request({ path, method, headers, body });
      const ttfb = performance.now() - t0;
      const h = res.headers["x-switchyard-target"];
      target = h === undefined ? undefined : Array.isArray(h) ? h[0] : h;
      // Read to the end: a stream counts when it is whole.
      for await (const chunk of res.body) void chunk;
      if (res.statusCode >= 200 && res.statusCode < 300) rec.success(performance.now() - t0, ttfb, target);
      else rec.failure(`status_${res.statusCode}`, target);
    } catch (err) {
      rec.failure(errorKind(err), target);
    }
  };

  const worker = async (): Promise<void> => {
    while (issued < maxRequests && performance.now() < deadline) {
      issued++;
      inFlight++;
      try {
        await one();
      } finally {
        inFlight--;
      }
    }
  };

  let timer: NodeJS.Timeout | undefined;
  if (o.onProgress !== undefined) {
    const onProgress = o.onProgress;
    let lastAt = start;
    let lastTotal = 0;
    let lastOk = 0;
    timer = setInterval(() => {
      const now = performance.now();
      const recent = summarize(rec.latencies.slice(lastOk));
      const p: Omit<LoadProgress, "line"> = {
        elapsedMs: Math.round(now - start),
        total: rec.total,
        ok: rec.ok,
        failed: rec.total - rec.ok,
        inFlight,
        rps: ((rec.total - lastTotal) * 1000) / Math.max(1, now - lastAt),
        p50Ms: recent.p50,
        p99Ms: recent.p99,
      };
      lastAt = now;
      lastTotal = rec.total;
      lastOk = rec.ok;
      onProgress({ ...p, line: formatProgress(p) });
    }, o.progressIntervalMs ?? 1000);
    timer.unref();
  }
  try {
    const workers: Promise<void>[] = [];
    for (let i = 0; i < o.concurrency; i++) workers.push(worker());
    await Promise.all(workers);
  } finally {
    if (timer !== undefined) clearInterval(timer);
    await pool.close().catch(() => {});
  }
  return rec.report(o.url, o.concurrency, performance.now() - start);
}
