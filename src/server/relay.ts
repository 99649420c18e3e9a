import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Surface } from "../config/schema.js";
import type { Committed } from "../gateway/attempt-loop.js";
import { answerMode, isEventStream, streamTranslationFor } from "../gateway/answer.js";
import { clientResponseHeaders } from "../gateway/headers.js";
import { warningsFor } from "../gateway/translation.js";
import { WARNINGS_HEADER, warningsHeaderValue } from "../providers/unsupported.js";
import { relayBuffered } from "./buffered-relay.js";
import { streamErrorEvent } from "./stream-error.js";

/**
 * Sends the committed upstream answer to the client, then ends the attempt. Three ways
 * (gateway/answer.ts decides which):
 *
 *   pass    the upstream's bytes, chunk by chunk, with backpressure (an SSE stream is never
 *           buffered; its events are relayed whole, see SseBoundary)
 *   stream  an SSE stream from a target of another dialect, translated event by event
 *   buffer  read whole and rewritten (translated JSON, a provider's error, a mapped REST answer)
 *
 * A client that leaves destroys the upstream body, which cancels the upstream call.
 */
export function relay(c: Committed, res: ServerResponse, surface: Surface): Promise<void> {
  switch (answerMode(c)) {
    case "buffer":
      return relayBuffered(c, res, surface);
    case "stream":
      res.writeHead(c.status, translatedStreamHeaders(c));
      return pump(c, res, streamTranslationFor(c));
    default: {
      const sse = isEventStream(c.headers);
      res.writeHead(c.status, clientResponseHeaders(c.headers, c.target, c.ctx.requestId, c.attempts, !sse));
      return pump(c, res, sse ? new SseBoundary(surface, c.target.id) : RAW);
    }
  }
}

/** Turns upstream body chunks into what the client is sent. */
interface BodySink {
  push(chunk: Buffer): string | Buffer;
  /** The upstream ended: whatever is left to send. */
  end(): string | Buffer;
  /** The upstream broke after the first byte: the closing bytes, or null to cut the connection. */
  broken(code: string): string | null;
  /** Set once the answer failed inside the stream (an upstream error event): stop reading. */
  readonly failure: string | null;
}

/** A non-SSE body that breaks is cut off: the client sees a short body, not a wrong one. */
const RAW: BodySink = { push: (chunk) => chunk, end: () => "", broken: () => null, failure: null };

/**
 * Pass-through SSE relayed on event boundaries: a partial event is held until its blank line
 * arrives, so when the upstream breaks mid-stream the client gets whole events, then one
 * well-formed error event in its dialect, then a clean end — never half an event.
 */
class SseBoundary implements BodySink {
  private held: Buffer | null = null;
  readonly failure = null;

  constructor(
    private readonly surface: Surface,
    private readonly targetId: string,
  ) {}

  push(chunk: Buffer): Buffer {
    if (this.held !== null) chunk = Buffer.concat([this.held, chunk]);
    const cut = lastEventEnd(chunk);
    if (cut < chunk.length) {
      this.held = chunk.subarray(cut);
      return chunk.subarray(0, cut);
    }
    this.held = null;
    return chunk;
  }

  end(): Buffer | string {
    return this.held ?? "";
  }

  broken(code: string): string {
    return streamErrorEvent(this.surface, `upstream ${this.targetId} broke off the stream (${code}); the answer is incomplete`);
  }
}

/** Streams the body through a sink with backpressure; resolves once the client's answer ended. */
function pump(c: Committed, res: ServerResponse, sink: BodySink): Promise<void> {
  const body = c.body;
  return new Promise((resolve) => {
    let done = false;
    const write = (chunk: Buffer) => {
      const out = sink.push(chunk);
      if (out.length > 0 && !res.write(out)) body.pause();
      if (sink.failure !== null) finish(null);
    };
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      body.off("data", write);
      res.off("drain", onDrain);
      res.off("close", onClose);
      if (err === null) {
        const rest = sink.failure === null ? sink.end() : "";
        if (sink.failure !== null) {
          // The upstream reported a failure inside its stream: the client has its error event.
          if (!body.readableEnded) body.destroy();
          res.end(rest);
          c.finish("broken_stream", sink.failure);
        } else {
          res.end(rest);
          c.finish();
        }
      } else if (c.ctx.clientGone || res.destroyed) {
        body.destroy();
        c.finish();
      } else {
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        const tail = sink.broken(code);
        c.finish("broken_stream", `stream broken after the first byte: ${code}`);
        if (tail === null) res.destroy();
        else res.end(tail);
      }
      resolve();
    };
    const onDrain = () => body.resume();
    const onClose = () => finish(new Error("client closed"));
    if (c.first !== null) write(c.first);
    if (done) return;
    // A small body may have ended (or broken) already while it waited behind its first chunk.
    if (body.readableEnded) return finish(null);
    if (body.errored !== null || body.destroyed) return finish(body.errored ?? new Error("upstream body closed"));
    body.on("data", write);
    body.once("end", () => finish(null));
    body.once("error", (err) => finish(err));
    res.on("drain", onDrain);
    res.once("close", onClose);
    body.resume();
  });
}

function translatedStreamHeaders(c: Committed): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-request-id": c.ctx.requestId,
    "x-switchyard-target": c.target.id,
    "x-switchyard-attempts": String(c.attempts),
  };
  const w = warningsFor(c.ctx, c.target);
  if (w !== undefined) h[WARNINGS_HEADER] = warningsHeaderValue(w);
  return h;
}

/** Index just past the last "\n\n" (or "\r\n\r\n") in the chunk; 0 when it has none. */
function lastEventEnd(chunk: Buffer): number {
  const lf = chunk.lastIndexOf("\n\n");
  const crlf = chunk.lastIndexOf("\r\n\r\n");
  if (lf === -1 && crlf === -1) return 0;
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}
