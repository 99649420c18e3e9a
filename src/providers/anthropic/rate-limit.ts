import { type HeaderBag, type RateLimitInfo, bindingReset, header, numberHeader, parseRetryAfter } from "../rate-limit.js";

/**
 * Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`;
 * resets are RFC 3339 timestamps. `tokens-*` is the most restrictive token limit in effect; when a
 * response only has the input/output pair, the tighter of the two stands in.
 */
export function parseAnthropicRateLimit(headers: HeaderBag, nowMs: number): RateLimitInfo {
  const info: RateLimitInfo = {};
  const p = "anthropic-ratelimit-";
  const rl = numberHeader(headers, `${p}requests-limit`);
  if (rl !== undefined) info.requestsLimit = rl;
  const rr = numberHeader(headers, `${p}requests-remaining`);
  if (rr !== undefined) info.requestsRemaining = rr;
  const rReset = timestamp(header(headers, `${p}requests-reset`));
  if (rReset !== undefined) info.requestsResetAtMs = rReset;

  let kind = "tokens";
  if (header(headers, `${p}tokens-remaining`) === undefined) {
    const inRem = numberHeader(headers, `${p}input-tokens-remaining`);
    const outRem = numberHeader(headers, `${p}output-tokens-remaining`);
    if (inRem !== undefined || outRem !== undefined)
      kind = outRem !== undefined && (inRem === undefined || outRem < inRem) ? "output-tokens" : "input-tokens";
  }
  const tl = numberHeader(headers, `${p}${kind}-limit`);
  if (tl !== undefined) info.tokensLimit = tl;
  const tr = numberHeader(headers, `${p}${kind}-remaining`);
  if (tr !== undefined) info.tokensRemaining = tr;
  const tReset = timestamp(header(headers, `${p}${kind}-reset`));
  if (tReset !== undefined) info.tokensResetAtMs = tReset;

  const reset = bindingReset(info);
  if (reset !== undefined) info.resetAtMs = reset;
  const retry = parseRetryAfter(headers, nowMs);
  if (retry !== undefined) info.retryAfterMs = retry;
  return info;
}

function timestamp(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
