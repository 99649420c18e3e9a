import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
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
  if (kind === "rest") {
    if (ctx.method !== "GET") return null;
    const url = `${namespace}\nrest\n${ctx.subPath}?${ctx.query}`;
    let key = byBody.get(url);
    if (key === undefined) byBody.set(url, (key = sha256(url)));
    return key;
  }
  // The same bytes to the same place make the same key: the normalising (the costly part of a
  // hit) is done once per distinct body. A small body is its own memo key (cheaper than hashing it).
  const body = ctx.body;
  const where = `${namespace}\n${kind}\n${ctx.model}\n`;
  const seen = body.length <= MEMO_RAW_BYTES ? where + body.toString("latin1") : sha256(where, body);
  let key = byBody.get(seen);
  if (key === undefined) {
    const material = isChatEndpoint(kind)
      ? `chat\n${ctx.model}\n${stableJson(normalised(canonicalRequest(ctx)))}`
      : `${kind}\n${ctx.model}\n${stableJson(ctx.json ?? null)}`;
    key = sha256(`${namespace}\n${material}`);
    byBody.set(seen, key);
  }
  return key;
}

/** Keys of bodies seen lately, by where they went and their bytes (or their hash, past MEMO_RAW_BYTES); 16 MB of memo at most. */
const MEMO_RAW_BYTES = 8192;
const byBody = new LRUCache<string, string>({ maxSize: 16 * 1024 * 1024, sizeCalculation: (key, seen) => seen.length + key.length });

function sha256(text: string, bytes?: Buffer): string {
  const h = createHash("sha256").update(text);
  if (bytes !== undefined) h.update(bytes);
  return h.digest("hex");
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
