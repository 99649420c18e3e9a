import { idsOfDataList, type ProviderAdapter } from "../adapter.js";
import { parseAnthropicRateLimit } from "./rate-limit.js";

/** The Messages API refuses a call without a version; a client of another dialect never sends one. */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Anthropic: the Messages API, the key in `x-api-key`, `anthropic-version` on every call,
 * `anthropic-ratelimit-*` headers, and "credit balance is too low" (a 400) for an account out
 * of credit.
 */
export const anthropic: ProviderAdapter = {
  name: "anthropic",
  wire: "anthropic",
  baseUrl: "https://api.anthropic.com",
  baseUrlExample: "https://api.anthropic.com",
  auth: { type: "header", name: "x-api-key" },
  headers: { "anthropic-version": ANTHROPIC_VERSION },
  query: {},
  vendorHeaderPrefix: "anthropic-",
  callPath: (kind) => (kind === "messages" ? "/v1/messages" : undefined),
  healthPath: (base) => `${base}/v1/models`,
  models: idsOfDataList,
  rateLimit: (headers, _body, now) => parseAnthropicRateLimit(headers, now),
  keyProblemStatuses: [400],
  keyProblem: (status, body) => (status === 400 && body.includes("credit balance is too low") ? "quota" : null),
};
