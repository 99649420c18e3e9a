import { idsOfDataList, type AuthPlacement, type KeyProblem, type ProviderAdapter } from "../adapter.js";
import { parseOpenAIRateLimit } from "./rate-limit.js";

const BEARER: AuthPlacement = { type: "bearer" };
const NONE: Readonly<Record<string, string>> = Object.freeze({});

/** What sets one OpenAI-compatible API apart from another: its URL, auth, fixed headers and query. */
export interface OpenAICompatibleOptions {
  readonly name: string;
  /** Default base URL; omit when every deployment has its own (Azure, a self-hosted server). */
  readonly baseUrl?: string;
  readonly baseUrlExample?: string;
  readonly auth?: AuthPlacement;
  readonly headers?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  /** The cheap call's path from the base path (default `<base>/models`). */
  readonly healthPath?: (basePath: string) => string;
  /** False for APIs without /embeddings: such a target is skipped for embeddings calls. */
  readonly embeddings?: boolean;
}

/**
 * An adapter for an API that speaks OpenAI's wire format: chat completions and embeddings under
 * its base URL, a Bearer key, OpenAI's `x-ratelimit-*` headers, `insufficient_quota` for an
 * account out of credit. Named providers are one call of this with their own URL.
 */
export function openAICompatible(o: OpenAICompatibleOptions): ProviderAdapter {
  const embeddings = o.embeddings !== false;
  return {
    name: o.name,
    wire: "openai",
    baseUrl: o.baseUrl,
    baseUrlExample: o.baseUrlExample ?? o.baseUrl ?? "http://127.0.0.1:8000/v1",
    auth: o.auth ?? BEARER,
    headers: o.headers ?? NONE,
    query: o.query ?? NONE,
    vendorHeaderPrefix: "openai-",
    callPath: (kind) => (kind === "chat" ? "/chat/completions" : kind === "embeddings" && embeddings ? "/embeddings" : undefined),
    healthPath: o.healthPath ?? ((base) => `${base}/models`),
    models: idsOfDataList,
    rateLimit: (headers, _body, now) => parseOpenAIRateLimit(headers, now),
    // 429 bodies are read anyway (a 429 is never relayed as it comes).
    keyProblemStatuses: [],
    keyProblem: openAIKeyProblem,
  };
}

/** OpenAI answers an account out of credit with 429 `insufficient_quota`: no wait will help that key. */
export function openAIKeyProblem(status: number, body: string): KeyProblem {
  return status === 429 && body.includes("insufficient_quota") ? "quota" : null;
}

/** OpenAI's own API. */
export const openai = openAICompatible({ name: "openai", baseUrl: "https://api.openai.com/v1" });
