import { isRecord } from "../errors.js";
import { type HeaderBag, type RateLimitInfo, parseDurationMs, parseRetryAfter } from "../rate-limit.js";

const RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";

/**
 * Gemini sends no rate-limit headers; a 429 body carries `RetryInfo.retryDelay` ("37s") in
 * `error.details`. A Retry-After header, when a proxy adds one, wins.
 */
export function parseGeminiRateLimit(headers: HeaderBag, body: unknown, nowMs: number): RateLimitInfo {
  const info: RateLimitInfo = {};
  let retry = parseRetryAfter(headers, nowMs);
  if (retry === undefined) retry = retryDelay(body);
  if (retry !== undefined) {
    info.retryAfterMs = retry;
    info.resetAtMs = nowMs + retry;
  }
  return info;
}

function retryDelay(body: unknown): number | undefined {
  const details = isRecord(body) && isRecord(body.error) ? body.error.details : undefined;
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (isRecord(d) && d["@type"] === RETRY_INFO && typeof d.retryDelay === "string") return parseDurationMs(d.retryDelay);
  }
  return undefined;
}
