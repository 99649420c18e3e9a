import type { Dialect } from "./canonical.js";
import type { HeaderBag, RateLimitInfo } from "./rate-limit.js";

/** The wire format a provider's API speaks: one of the translated dialects, or plain REST. */
export type WireFormat = Dialect | "rest";

/** Where a key travels upstream: `Authorization: Bearer`, a named header, a query parameter, or nowhere. */
export interface AuthPlacement {
  readonly type: "bearer" | "header" | "query" | "none";
  readonly name?: string | undefined;
}

/** What an upstream LLM call is for; the adapter turns it into a path. */
export type CallKind = "chat" | "embeddings" | "messages" | "generate" | "stream_generate";

/** Why an error answer says the key itself is unusable: wrong key, or no credit left. */
export type KeyProblem = "auth" | "quota" | null;

/**
 * Everything Switchyard knows about one provider, in one place: where its API lives and how a key
 * reaches it, the path of each call, the headers and query every call carries, its cheap health
 * call, how it reports rate limits and bad keys. One folder per provider holds its adapter;
 * `registry.ts` lists them, one line each. Adapters are plain data plus pure functions: the
 * engine asks them, they never call back.
 */
export interface ProviderAdapter {
  /** The config name: `provider: groq`. */
  readonly name: string;
  /** The wire format: requests are translated to it, answers from it. */
  readonly wire: WireFormat;
  /** The API's base URL when a target names none; undefined: `base_url` is required. */
  readonly baseUrl: string | undefined;
  /** What base_url looks like, for the message when it is missing. */
  readonly baseUrlExample: string;
  /** Where the key goes when the target's `auth` does not say. */
  readonly auth: AuthPlacement;
  /** Headers every call carries (anthropic-version) unless the client or the target sets them. */
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters every call carries (Azure's api-version) unless the target's `query` sets them. */
  readonly query: Readonly<Record<string, string>>;
  /**
   * Prefix of the provider's own request headers (`anthropic-`, `openai-`, `x-goog-`): a client
   * SDK sends them, and they reach only a target whose adapter has the same prefix. "" = none.
   */
  readonly vendorHeaderPrefix: string;
  /**
   * Path after the target's base path of a call of this kind for this model (it may carry a query:
   * Gemini's `alt=sse`); undefined when the API has no such call (embeddings on Anthropic).
   */
  callPath(kind: CallKind, model: string): string | undefined;
  /**
   * Path of the cheap call that spends no tokens (lists models; `/health` for REST), given the
   * target's base path with its `{model}` slot already filled. A health check, a key probe and a
   * breaker's recovery probe all send it, with the target's key, headers and fixed query.
   */
  healthPath(basePath: string): string;
  /** Model ids in the cheap call's answer (GET /v1/models of a `*` route lists them). */
  models(body: unknown): string[];
  /** What an answer's headers (and, for an error, its body) say about the key's limits. */
  rateLimit(headers: HeaderBag, errorBody: string, nowMs: number): RateLimitInfo;
  /**
   * Statuses (beyond the configured 401/402/403) whose body may say the key is bad: the gateway
   * reads such an answer before deciding whether to relay it (Gemini's 400 API_KEY_INVALID).
   */
  readonly keyProblemStatuses: readonly number[];
  /** Does this error answer say the key itself is unusable (beyond the configured statuses)? */
  keyProblem(status: number, errorBody: string): KeyProblem;
}

/** Model ids of an OpenAI-shaped list (`{"data":[{"id":…}]}`), which Anthropic's list also is. */
export function idsOfDataList(body: unknown): string[] {
  const data = typeof body === "object" && body !== null ? (body as { data?: unknown }).data : undefined;
  if (!Array.isArray(data)) return [];
  const out: string[] = [];
  for (const m of data) {
    const id = typeof m === "object" && m !== null ? (m as { id?: unknown }).id : undefined;
    if (typeof id === "string" && id !== "") out.push(id);
  }
  return out;
}

export const NO_KEY_PROBLEM = (): KeyProblem => null;
