import type { ProviderAdapter } from "../adapter.js";
import { parseGeminiRateLimit } from "./rate-limit.js";
import { geminiPath } from "./request.js";

/**
 * Google's Gemini API: generateContent / streamGenerateContent (SSE) per model, the key in
 * `x-goog-api-key`, rate limits only in a 429's body (RetryInfo), and a bad key as a 400
 * API_KEY_INVALID.
 */
export const gemini: ProviderAdapter = {
  name: "gemini",
  wire: "gemini",
  baseUrl: "https://generativelanguage.googleapis.com",
  baseUrlExample: "https://generativelanguage.googleapis.com",
  auth: { type: "header", name: "x-goog-api-key" },
  headers: {},
  query: {},
  vendorHeaderPrefix: "x-goog-",
  callPath: (kind, model) =>
    kind === "generate" || kind === "stream_generate" ? `/v1beta${geminiPath(model, kind === "stream_generate")}` : undefined,
  healthPath: (base) => `${base}/v1beta/models`,
  models: geminiModelIds,
  rateLimit: (headers, body, now) => parseGeminiRateLimit(headers, body === "" ? undefined : parseJson(body), now),
  keyProblemStatuses: [400],
  keyProblem: (status, body) => (status === 400 && body.includes("API_KEY_INVALID") ? "auth" : null),
};

/** `{"models":[{"name":"models/gemini-2.5-flash"}]}` → ["gemini-2.5-flash"]. */
function geminiModelIds(body: unknown): string[] {
  const models = typeof body === "object" && body !== null ? (body as { models?: unknown }).models : undefined;
  if (!Array.isArray(models)) return [];
  const out: string[] = [];
  for (const m of models) {
    const name = typeof m === "object" && m !== null ? (m as { name?: unknown }).name : undefined;
    if (typeof name === "string" && name !== "") out.push(name.startsWith("models/") ? name.slice(7) : name);
  }
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
