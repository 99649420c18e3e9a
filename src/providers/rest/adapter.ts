import { NO_KEY_PROBLEM, type ProviderAdapter } from "../adapter.js";
import { parseRetryAfter, type RateLimitInfo } from "../rate-limit.js";

/**
 * A JSON/REST vendor (market data, news): the client's path (or the target's vendor path, see
 * vendor-path.ts) under base_url, a Bearer key unless `auth` says otherwise, `GET /health` as
 * its cheap call, and only `Retry-After` to say when to come back.
 */
/** What most answers say about limits: nothing (shared, not made per answer). */
const NOTHING: RateLimitInfo = Object.freeze({});

export const rest: ProviderAdapter = {
  name: "rest",
  wire: "rest",
  baseUrl: undefined,
  baseUrlExample: "https://api.vendor.example/v2",
  auth: { type: "bearer" },
  headers: {},
  query: {},
  vendorHeaderPrefix: "",
  callPath: () => undefined,
  healthPath: (base) => `${base}/health`,
  models: () => [],
  rateLimit: (headers, _body, now): RateLimitInfo => {
    const retry = parseRetryAfter(headers, now);
    return retry === undefined ? NOTHING : { retryAfterMs: retry, resetAtMs: now + retry };
  },
  keyProblemStatuses: [],
  keyProblem: NO_KEY_PROBLEM,
};
