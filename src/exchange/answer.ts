import type { IncomingHttpHeaders } from "node:http";
import type { Dialect } from "../providers/canonical.js";
import { mapperFor } from "../providers/rest/response-mapper.js";
import { StreamTranslation, translateErrorAnswer, translateJsonAnswer } from "./answer-translation.js";
import type { Committed } from "../engine/attempt-loop.js";
import { UpstreamFormatError } from "../errors.js";

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
    return c.status >= 200 && c.status < 300 && c.status !== 204 && ctx.method !== "HEAD" && c.target.config.response_mapper !== undefined ? "buffer" : "pass";
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
    const m = mapperFor(target.config)!;
    const fn = m instanceof Promise ? await m : m;
    let mapped: unknown;
    try {
      mapped = await fn(json, { target: target.id, route: target.routeName, path: ctx.subPath, query: Object.fromEntries(new URLSearchParams(ctx.query)) });
    } catch (err) {
      throw new UpstreamFormatError(`response mapper of target ${target.id} failed: ${(err as Error).message}`);
    }
    return { status: c.status, body: JSON.stringify(mapped ?? null), contentType: "application/json" };
  }
  const upstream = target.wire as Dialect;
  const client = ctx.surface as Dialect;
  if (c.status >= 400) {
    const e = translateErrorAnswer(upstream, client, c.status, text, target);
    return { status: e.status, body: e.body, contentType: "application/json" };
  }
  if (ctx.stream) {
    // Only the library buffers a stream; the server translates it event by event.
    if (!isEventStream(c.headers)) throw new UpstreamFormatError(`expected an event stream, got ${String(c.headers["content-type"] ?? "no content-type")}`);
    const tr = streamTranslationFor(c);
    const body = tr.push(Buffer.from(text)) + tr.end();
    if (tr.failure !== null) throw new UpstreamFormatError(tr.failure);
    return { status: c.status, body, contentType: "text/event-stream; charset=utf-8" };
  }
  const r = translateJsonAnswer(upstream, client, text);
  ctx.usage = r.usage;
  return { status: c.status, body: r.body, contentType: "application/json" };
}

/**
 * Largest upstream answer read whole for a rewrite. A JSON completion is kilobytes; a body past
 * this is not one, and must not make the gateway hold it in memory.
 */
export const BUFFER_LIMIT = 32 * 1024 * 1024;

/** The committed body as text (its first chunk was read by the attempt loop), at most BUFFER_LIMIT bytes. */
export async function readWhole(c: Committed): Promise<string> {
  const chunks: Buffer[] = c.first === null ? [] : [c.first];
  let size = c.first?.length ?? 0;
  if (!c.body.readableEnded) {
    for await (const chunk of c.body) {
      size += (chunk as Buffer).length;
      if (size > BUFFER_LIMIT) throw Object.assign(new Error(`answer larger than ${BUFFER_LIMIT} bytes`), { code: "answer_too_large" });
      chunks.push(chunk as Buffer);
    }
  }
  return chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, size).toString("utf8");
}
