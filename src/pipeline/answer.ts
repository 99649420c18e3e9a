import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { InternalError, UpstreamFormatError } from "../errors.js";
import type { Committed } from "../engine/committed.js";
import type { BodySink } from "../engine/upstream-call.js";
import { StreamTranslation, translateErrorAnswer, translateJsonAnswer } from "../exchange/answer-translation.js";
import { clientResponseHeaders } from "../exchange/headers.js";
import { warningsFor } from "../exchange/request-translation.js";
import type { Dialect } from "../providers/canonical.js";
import { mapperFor } from "../providers/rest/response-mapper.js";
import { WARNINGS_HEADER, warningsHeaderValue } from "../providers/unsupported.js";

/**
 * What the client gets from a committed upstream answer, decided once per answer:
 *
 *   pass      the upstream's bytes as they come (same dialect, or REST without a mapper)
 *   stream    a streamed answer translated event by event (another dialect)
 *   buffer    read whole, then rewritten: a JSON answer in another dialect, a provider's
 *             4xx error (in the client's dialect, naming the target), a REST vendor's JSON
 *             through its response mapper
 */
export type AnswerMode = "pass" | "stream" | "buffer";

export function answerMode(c: Committed): AnswerMode {
  const ctx = c.ctx;
  if (ctx.surface === "rest")
    return c.status >= 200 && c.status < 300 && c.status !== 204 && ctx.method !== "HEAD" && c.target.config.response_mapper !== undefined
      ? "buffer"
      : "pass";
  if (c.status >= 400) return "buffer";
  if (c.status < 200 || c.status >= 300 || c.status === 204 || c.target.wire === ctx.surface) return "pass";
  return ctx.stream && isEventStream(c.headers) ? "stream" : "buffer";
}

export function isEventStream(headers: IncomingHttpHeaders): boolean {
  return String(headers["content-type"] ?? "").startsWith("text/event-stream");
}

/** The stream translator for a "stream" answer. */
export function streamTranslationFor(c: Committed): StreamTranslation {
  const ctx = c.ctx;
  const includeUsage = ctx.canonical?.stream_options?.include_usage ?? false;
  return new StreamTranslation(c.target.wire as Dialect, ctx.surface as Dialect, c.target, ctx, c.target.model ?? ctx.model, includeUsage);
}

/** A rewritten answer, ready to send. */
export interface Rewritten {
  status: number;
  body: string;
  contentType: string;
}

/**
 * The rewritten form of a "buffer" answer whose body was read whole. Throws UpstreamFormatError
 * when a 2xx body is not what its dialect (or the mapper) expects: the attempt counts as the
 * target's server error.
 */
export async function rewriteAnswer(c: Committed, text: string): Promise<Rewritten> {
  const ctx = c.ctx;
  const target = c.target;
  if (ctx.surface === "rest") {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UpstreamFormatError(`not JSON (${text.length} bytes), nothing to map`);
    }
    const m = mapperFor(target.config);
    // answerMode buffers a REST answer only for a target with a response_mapper.
    if (m === undefined) throw new Error(`target ${target.id} has no response_mapper to rewrite its answer with`);
    const fn = m instanceof Promise ? await m : m;
    let mapped: unknown;
    try {
      mapped = await fn(json, {
        target: target.id,
        route: target.routeName,
        path: ctx.subPath,
        query: Object.fromEntries(new URLSearchParams(ctx.query)),
      });
    } catch (err) {
      throw new UpstreamFormatError(`response mapper of target ${target.id} failed: ${(err as Error).message}`);
    }
    return { status: c.status, body: JSON.stringify(mapped ?? null), contentType: "application/json" };
  }
  const upstream = target.wire as Dialect;
  const client = ctx.surface;
  if (c.status >= 400) {
    const e = translateErrorAnswer(upstream, client, c.status, text, target);
    return { status: e.status, body: e.body, contentType: "application/json" };
  }
  if (ctx.stream) throw new UpstreamFormatError(`expected an event stream, got ${String(c.headers["content-type"] ?? "no content-type")}`);
  const r = translateJsonAnswer(upstream, client, text);
  ctx.usage = r.usage;
  return { status: c.status, body: r.body, contentType: "application/json" };
}

/**
 * Largest upstream answer read whole for a rewrite. A JSON completion is kilobytes; a body past
 * this is not one, and must not make the gateway hold it in memory.
 */
export const BUFFER_LIMIT = 32 * 1024 * 1024;
const TOO_LARGE = new InternalError("SWY_ERR_ANSWER_TOO_LARGE", `answer larger than ${BUFFER_LIMIT} bytes`);

/** The committed body as text (its first chunk was read by the attempt loop), at most BUFFER_LIMIT bytes. */
export function readWhole(c: Committed): Promise<string> {
  return new Promise((resolve, reject) => c.call.attach(new Collector(c, resolve, reject)));
}

/** Gathers a committed body straight from the upstream call (no stream in between). */
class Collector implements BodySink {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly c: Committed,
    private readonly resolve: (text: string) => void,
    private readonly reject: (err: Error) => void,
  ) {
    if (c.first !== null) this.add(c.first);
  }

  write(chunk: Buffer): boolean {
    this.add(chunk);
    return true;
  }

  end(): void {
    if (this.size > BUFFER_LIMIT) return;
    const cs = this.chunks;
    this.resolve(cs.length === 1 ? (cs[0] as Buffer).toString("utf8") : Buffer.concat(cs, this.size).toString("utf8"));
  }

  error(err: Error): void {
    this.reject(err);
  }

  private add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > BUFFER_LIMIT) {
      this.c.call.abort(TOO_LARGE);
      this.reject(TOO_LARGE);
      return;
    }
    this.chunks.push(chunk);
  }
}

const SSE_TYPE = "text/event-stream; charset=utf-8";

/**
 * The client's response headers for a committed answer, whatever its mode: the upstream's own
 * (hop-by-hop and upstream-only ones dropped) when the answer is in the client's dialect, only
 * the gateway's when it was translated; then the content type and length of a rewritten body,
 * what a translation dropped (x-switchyard-warnings), and what admission added (ctx.responseHeaders).
 */
export function answerHeaders(c: Committed, rewritten?: { contentType: string; length: number }): OutgoingHttpHeaders {
  const ctx = c.ctx;
  const translated = c.target.wire !== ctx.surface;
  let h: OutgoingHttpHeaders;
  if (!translated)
    h = clientResponseHeaders(c.headers, c.target, ctx.requestId, c.attempts, rewritten === undefined && !isEventStream(c.headers));
  else {
    h = { "x-request-id": ctx.requestId, "x-switchyard-target": c.target.id, "x-switchyard-attempts": String(c.attempts) };
    if (rewritten === undefined) {
      h["content-type"] = SSE_TYPE;
      h["cache-control"] = "no-cache";
    }
  }
  if (rewritten !== undefined) {
    h["content-type"] = rewritten.contentType;
    h["content-length"] = String(rewritten.length);
  }
  const w = warningsFor(ctx, c.target);
  if (w !== undefined) h[WARNINGS_HEADER] = warningsHeaderValue(w);
  if (ctx.responseHeaders !== null) Object.assign(h, ctx.responseHeaders);
  return h;
}
