/**
 * What an upstream's response headers say about its limits. Each dialect's `rate-limit.ts` fills
 * this from its own header names; the attempt loop benches a key until `resetAtMs` (or now +
 * `retryAfterMs`) and balancers may scale a target's share by what remains.
 */
export interface RateLimitInfo {
  requestsRemaining?: number;
  requestsLimit?: number;
  tokensRemaining?: number;
  tokensLimit?: number;
  /** Epoch ms when the request limit window resets. */
  requestsResetAtMs?: number;
  /** Epoch ms when the token limit window resets. */
  tokensResetAtMs?: number;
  /**
   * Epoch ms when the binding limit resets: the latest reset among exhausted limits (remaining
   * 0), else the earliest reset reported.
   */
  resetAtMs?: number;
  /** Delay the upstream asked for (`retry-after-ms`, `retry-after` seconds or HTTP-date), in ms. */
  retryAfterMs?: number;
}

/** Header bag as node:http and undici give it (lower-case names). */
export type HeaderBag = Record<string, string | string[] | number | undefined>;

export function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  if (typeof v === "number") return String(v);
  return Array.isArray(v) ? v[0] : v;
}

/** A non-negative number header, or undefined when absent or malformed. */
export function numberHeader(headers: HeaderBag, name: string): number | undefined {
  const v = header(headers, name);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * `retry-after-ms` (OpenAI's, milliseconds) wins over `retry-after` (RFC 9110: delay-seconds or
 * an HTTP-date). Returns a delay in ms, or undefined when absent or unparseable.
 */
export function parseRetryAfter(headers: HeaderBag, nowMs: number): number | undefined {
  const ms = numberHeader(headers, "retry-after-ms");
  if (ms !== undefined) return ms;
  const v = header(headers, "retry-after");
  if (v === undefined) return undefined;
  return parseRetryAfterValue(v, nowMs);
}

export function parseRetryAfterValue(v: string, nowMs: number): number | undefined {
  const s = v.trim();
  if (s === "") return undefined;
  const c = s.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    const seconds = Number(s);
    return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  }
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * A Go-style duration as OpenAI sends in `x-ratelimit-reset-*`: `12ms`, `1s`, `6m0s`,
 * `1h2m3.5s`, `0.5s`. Returns ms, or undefined when malformed. A bare number means seconds.
 */
export function parseDurationMs(v: string): number | undefined {
  const s = v.trim();
  const len = s.length;
  if (len === 0) return undefined;
  let total = 0;
  let i = 0;
  let sawUnit = false;
  while (i < len) {
    const start = i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if ((c >= 48 && c <= 57) || c === 46) i++;
      else break;
    }
    if (i === start) return undefined;
    const n = Number(s.slice(start, i));
    if (!Number.isFinite(n)) return undefined;
    if (i === len) {
      // "12" without a unit: only valid as the whole value (seconds).
      if (sawUnit) return undefined;
      return n * 1000;
    }
    const u0 = s.charCodeAt(i);
    const u1 = i + 1 < len ? s.charCodeAt(i + 1) : 0;
    if (u0 === 104 /* h */) {
      total += n * 3_600_000;
      i += 1;
    } else if (u0 === 109 /* m */ && u1 === 115 /* s */) {
      total += n;
      i += 2;
    } else if (u0 === 109 /* m */) {
      total += n * 60_000;
      i += 1;
    } else if (u0 === 115 /* s */) {
      total += n * 1000;
      i += 1;
    } else if ((u0 === 117 /* u */ || u0 === 0xb5) /* µ */ && u1 === 115) {
      total += n / 1000;
      i += 2;
    } else if (u0 === 110 /* n */ && u1 === 115) {
      total += n / 1_000_000;
      i += 2;
    } else return undefined;
    sawUnit = true;
  }
  return total;
}

/** The binding reset, as documented on RateLimitInfo.resetAtMs. */
export function bindingReset(info: RateLimitInfo): number | undefined {
  const r = info.requestsResetAtMs;
  const t = info.tokensResetAtMs;
  const rOut = info.requestsRemaining === 0 && r !== undefined;
  const tOut = info.tokensRemaining === 0 && t !== undefined;
  if (rOut && tOut) return Math.max(r, t);
  if (rOut) return r;
  if (tOut) return t;
  if (r !== undefined && t !== undefined) return Math.min(r, t);
  return r ?? t;
}
