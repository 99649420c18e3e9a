import type { IncomingHttpHeaders } from "node:http";
import { Outcome } from "../core/outcome.js";

/**
 * Maps an upstream answer or error to an Outcome. The only place that knows which statuses and
 * socket errors mean what; policies read Outcome.kind.
 */
export function classifyStatus(status: number, headers: IncomingHttpHeaders, now: number): Outcome {
  if (status < 400) return OK_BY_STATUS(status);
  if (status === 429) return new Outcome("rate_limited", status, "429 from upstream", retryAtFromHeaders(headers, now));
  if (status === 503 || status === 529) return new Outcome("overloaded", status, `${status} from upstream`, retryAtFromHeaders(headers, now));
  if (status === 408) return new Outcome("timeout", status, "408 from upstream");
  if (status >= 500) return new Outcome("server_error", status, `${status} from upstream`);
  return new Outcome("client_error", status, `${status} from upstream`);
}

const okOutcomes = new Map<number, Outcome>();
function OK_BY_STATUS(status: number): Outcome {
  let o = okOutcomes.get(status);
  if (o === undefined) okOutcomes.set(status, (o = new Outcome("ok", status, "ok")));
  return o;
}

/** Where in the attempt an error happened: before response headers, or while reading the body. */
export type Phase = "headers" | "body";

export function classifyError(err: unknown, phase: Phase, timeoutDetail?: string): Outcome {
  const code = (err as { code?: string } | null)?.code ?? "";
  const message = (err as Error | null)?.message ?? String(err);
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return new Outcome("timeout", 0, "connect timeout");
    case "UND_ERR_HEADERS_TIMEOUT":
      return new Outcome("timeout", 0, timeoutDetail ?? "first byte timeout");
    case "UND_ERR_BODY_TIMEOUT":
      return new Outcome("timeout", 0, timeoutDetail ?? "idle timeout between chunks");
  }
  if (timeoutDetail !== undefined) return new Outcome("timeout", 0, timeoutDetail);
  if (phase === "body") return new Outcome("broken_stream", 0, `stream broken: ${code || message}`);
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "EPIPE" || code.startsWith("UND_ERR_SOCKET") || code === "UND_ERR_CLOSED")
    return new Outcome("connection_failure", 0, `connection failed: ${code}`);
  return new Outcome("connection_failure", 0, `connection failed: ${code || message}`);
}

/**
 * Epoch ms when a rate-limited or overloaded target may be called again, from `retry-after-ms`,
 * `retry-after` (seconds or HTTP-date); 0 when the answer does not say.
 */
export function retryAtFromHeaders(headers: IncomingHttpHeaders, now: number): number {
  const ms = headers["retry-after-ms"];
  if (typeof ms === "string") {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return now + v;
  }
  const ra = headers["retry-after"];
  if (typeof ra === "string" && ra !== "") {
    const secs = Number(ra);
    if (Number.isFinite(secs)) return secs >= 0 ? now + secs * 1000 : 0;
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return Math.max(now, date);
  }
  return 0;
}
