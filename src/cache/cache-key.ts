import { createHash } from "node:crypto";
import { isChatEndpoint } from "../core/endpoint.js";
import type { RequestContext } from "../core/request-context.js";
import { canonicalRequest } from "../exchange/request-translation.js";
import type { ChatRequest, Message } from "../providers/canonical.js";

/**
 * The key of a request's cache entry: what decides the answer, normalised, hashed (SHA-256, hex).
 *
 *   chat (any dialect)  the canonical request (so OpenAI, Anthropic and Gemini SDKs asking the
 *                       same question meet at one entry) without what does not change the
 *                       answer: stream, stream_options, user, metadata, store, service_tier;
 *                       text-only content parts joined into one string; nulls dropped; the
 *                       output cap under one name (max_tokens / max_completion_tokens)
 *   embeddings          the body as sent, keys sorted (its answer's bytes are the entry)
 *   REST                method, path and query as sent (GETs only)
 *
 * Every key starts with the cache's namespace (the route's name unless routes share one) and the
 * kind of answer: a chat entry is never read as an embeddings one. The model is the one the
 * client asked for.
 * Returns null for a request the cache does not take (a REST call other than GET).
 */
export function cacheKey(ctx: RequestContext, namespace: string): string | null {
  const kind = ctx.endpoint.kind;
  let material: string;
  if (kind === "rest") {
    if (ctx.method !== "GET") return null;
    material = `rest\n${ctx.subPath}?${ctx.query}`;
  } else if (isChatEndpoint(kind)) material = `chat\n${ctx.model}\n${stableJson(normalised(canonicalRequest(ctx)))}`;
  else material = `${kind}\n${ctx.model}\n${stableJson(ctx.json ?? null)}`;
  return createHash("sha256").update(namespace).update("\n").update(material).digest("hex");
}

/** The fields of a canonical request that decide its answer, in one shape whatever the client's dialect. */
function normalised(req: ChatRequest): Record<string, unknown> {
  const {
    stream: _stream,
    stream_options: _streamOptions,
    user: _user,
    metadata: _metadata,
    store: _store,
    service_tier: _tier,
    model: _model,
    messages,
    max_tokens,
    max_completion_tokens,
    stop,
    ...rest
  } = req;
  const out: Record<string, unknown> = { ...rest, messages: messages.map(message) };
  const max = max_completion_tokens ?? max_tokens;
  if (max !== null && max !== undefined) out["max_tokens"] = max;
  if (stop !== null && stop !== undefined) out["stop"] = typeof stop === "string" ? [stop] : stop;
  return out;
}

/** A message with text-only content as one string (a string and one text part are the same question). */
function message(m: Message): unknown {
  const content = m.content;
  if (!Array.isArray(content) || !content.every((p) => p.type === "text")) return m;
  return { ...m, content: (content as { text: string }[]).map((p) => p.text).join("") };
}

/** JSON with object keys sorted at every level and null / undefined members left out. */
export function stableJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== null && o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(",")}}`;
}
