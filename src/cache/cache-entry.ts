import type { ChatCompletion, Dialect } from "../providers/canonical.js";

/**
 * One cached answer, as every store keeps it (Redis as its JSON):
 *
 *   chat  the canonical completion (any dialect's answer, read whole or from a complete stream):
 *         replayed as JSON or as a stream in the asking client's dialect
 *   raw   an answer's status, headers and bytes as the client got them (REST GETs, embeddings)
 *
 * Times are epoch ms: served as fresh until `freshUntil`, kept for stale-if-error until `staleUntil`.
 */
export interface CacheEntry {
  readonly kind: "chat" | "raw";
  readonly completion?: ChatCompletion;
  /**
   * chat: the JSON body exactly as its first client got it (a same-dialect, non-streamed answer),
   * so the same question from the same dialect gets the same bytes back.
   */
  readonly origin?: { dialect: Dialect; body: string };
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** raw: the body, base64. */
  readonly body?: string;
  /** The target that made the answer (its id). */
  readonly target: string;
  readonly createdAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
  /** About what the entry takes in memory, for the store's byte cap. */
  readonly bytes: number;
}

/** The entry's JSON for a shared store; `bytes` is its length. */
export function entryJson(e: Omit<CacheEntry, "bytes">): { entry: CacheEntry; json: string } {
  const json = JSON.stringify(e);
  return { entry: { ...e, bytes: json.length }, json };
}

/** An entry read back from a shared store, or undefined when it is not one (another version's, damaged). */
export function parseEntry(text: string): CacheEntry | undefined {
  try {
    const e = JSON.parse(text) as Partial<CacheEntry>;
    if ((e.kind !== "chat" && e.kind !== "raw") || typeof e.freshUntil !== "number" || typeof e.staleUntil !== "number") return undefined;
    if (e.kind === "chat" && (e.completion === null || typeof e.completion !== "object")) return undefined;
    if (e.kind === "raw" && (typeof e.body !== "string" || typeof e.status !== "number")) return undefined;
    return { ...(e as CacheEntry), bytes: text.length };
  } catch {
    return undefined;
  }
}
