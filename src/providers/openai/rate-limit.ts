import { type HeaderBag, type RateLimitInfo, bindingReset, header, numberHeader, parseDurationMs, parseRetryAfter } from "../rate-limit.js";

const NOTHING: RateLimitInfo = Object.freeze({});

/**
 * OpenAI: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`; resets are durations from now
 * (`6m0s`, `12ms`).
 */
export function parseOpenAIRateLimit(headers: HeaderBag, nowMs: number): RateLimitInfo {
  // Most OpenAI-compatible servers (and every answer of some) send none of these: nothing to read.
  if (
    headers["x-ratelimit-limit-requests"] === undefined &&
    headers["x-ratelimit-limit-tokens"] === undefined &&
    headers["retry-after"] === undefined &&
    headers["retry-after-ms"] === undefined
  )
    return NOTHING;
  const info: RateLimitInfo = {};
  const rl = numberHeader(headers, "x-ratelimit-limit-requests");
  if (rl !== undefined) info.requestsLimit = rl;
  const rr = numberHeader(headers, "x-ratelimit-remaining-requests");
  if (rr !== undefined) info.requestsRemaining = rr;
  const tl = numberHeader(headers, "x-ratelimit-limit-tokens");
  if (tl !== undefined) info.tokensLimit = tl;
  const tr = numberHeader(headers, "x-ratelimit-remaining-tokens");
  if (tr !== undefined) info.tokensRemaining = tr;
  const rReset = duration(header(headers, "x-ratelimit-reset-requests"));
  if (rReset !== undefined) info.requestsResetAtMs = nowMs + rReset;
  const tReset = duration(header(headers, "x-ratelimit-reset-tokens"));
  if (tReset !== undefined) info.tokensResetAtMs = nowMs + tReset;
  const reset = bindingReset(info);
  if (reset !== undefined) info.resetAtMs = reset;
  const retry = parseRetryAfter(headers, nowMs);
  if (retry !== undefined) info.retryAfterMs = retry;
  return info;
}

function duration(v: string | undefined): number | undefined {
  return v === undefined ? undefined : parseDurationMs(v);
}
