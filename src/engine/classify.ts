import type { IncomingHttpHeaders } from "node:http";
import { Outcome } from "../core/outcome.js";
import type { Target } from "../core/target.js";

/**
 * Maps an upstream answer or error to an Outcome. The only place that knows which statuses and
 * socket errors mean what; policies read Outcome.kind.
 *
 * A 429 or 503/529 carries when the target may be called again: from the provider's adapter,
 * which reads `retry-after-ms`, `Retry-After` (seconds or HTTP-date) and, for Gemini, the
 * body's RetryInfo. `errorBody` is the error answer's start ("" for relayed answers).
 */
export function classifyStatus(status: number, headers: IncomingHttpHeaders, now: number, target: Target, errorBody = ""): Outcome {
  if (status < 400) return OK_BY_STATUS(status);
  if (status === 429) return new Outcome("rate_limited", status, "429 from upstream", retryAt(target, headers, errorBody, now));
  if (status === 503 || status === 529)
    return new Outcome("overloaded", status, `${status} from upstream`, retryAt(target, headers, errorBody, now));
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
export type FailedDuring = "headers" | "body";

export function classifyError(err: unknown, during: FailedDuring, timeoutDetail?: string): Outcome {
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
  if (during === "body") return new Outcome("broken_stream", 0, `stream broken: ${code || message}`);
  if (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "ENOTFOUND" ||
    code === "EAI_AGAIN" ||
    code === "EHOSTUNREACH" ||
    code === "ENETUNREACH" ||
    code === "EPIPE" ||
    code.startsWith("UND_ERR_SOCKET") ||
    code === "UND_ERR_CLOSED"
  )
    return new Outcome("connection_failure", 0, `connection failed: ${code}`);
  return new Outcome("connection_failure", 0, `connection failed: ${code || message}`);
}

/** Epoch ms when the provider says to come back; 0 when it does not say. */
function retryAt(target: Target, headers: IncomingHttpHeaders, errorBody: string, now: number): number {
  const ms = target.adapter.rateLimit(headers, errorBody, now).retryAfterMs;
  return ms === undefined ? 0 : now + ms;
}
