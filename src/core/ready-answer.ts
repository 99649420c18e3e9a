import type { OutgoingHttpHeaders } from "node:http";
import type { Usage } from "../providers/canonical.js";
import type { Target } from "./target.js";

/**
 * An answer the gateway gives without an upstream call of the request's own: a cache hit, a
 * stale entry served when every target failed, the share of a batched call, a coalesced twin's
 * answer. An admission step returns one instead of letting the request through; the pipeline
 * sends it as it is (the request's own response headers added) and publishes the request event.
 *
 * A ReadyAnswer is its request's own: the pipeline adds the request's headers (x-request-id,
 * what admission added) to `headers` in place; a step answering from something shared (a cache
 * entry) makes a new one, with a new headers object, for each request.
 *
 * `answeredBy` says which (access log, metrics, `x-switchyard-cache`); `target` and `usage` are
 * set when an upstream call made for the request's share did spend tokens (a batch), so its cost
 * is counted against the client key and route like any answer; a cache hit spent nothing.
 */
export class ReadyAnswer {
  constructor(
    readonly status: number,
    readonly headers: OutgoingHttpHeaders,
    readonly body: string | Buffer,
    readonly answeredBy: AnsweredBy,
    readonly target: Target | null = null,
    readonly usage: Usage | null = null,
  ) {}
}

/** Who answered a request: "" the engine (an upstream call of its own); otherwise the step that did. */
export type AnsweredBy = "" | "cache" | "stale" | "coalesced" | "batch";

/** What the response cache did with a request: "" its route has no cache. */
export type CacheResult = "" | "hit" | "miss" | "bypass" | "stale" | "coalesced";
