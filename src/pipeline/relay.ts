import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Surface } from "../config/schema.js";
import type { Committed } from "../engine/attempt-loop.js";
import { answerMode, isEventStream, streamTranslationFor } from "../exchange/answer.js";
import { clientResponseHeaders } from "../exchange/headers.js";
import { warningsFor } from "../exchange/request-translation.js";
import { WARNINGS_HEADER, warningsHeaderValue } from "../providers/unsupported.js";
import { relayBuffered } from "./buffered-relay.js";
import { clientStreamError } from "../providers/client-errors.js";

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
    return clientStreamError(this.surface, `upstream ${this.targetId} broke off the stream (${code}); the answer is incomplete`);
  }
}

/**
 * Streams the rest of the body (after the first chunk) from the upstream call into the client's
 * response through a sink, with backpressure both ways; resolves once the client's answer ended.
 */
function pump(c: Committed, res: ServerResponse, sink: BodySink): Promise<void> {
  return new Promise((resolve) => new Pump(c, res, sink, resolve).start());
}

/** One relay in progress: the upstream call's sink on one side, the client's response on the other. */
class Pump {
  private done = false;
  private readonly onDrain = () => this.c.call.resume();

  constructor(
    private readonly c: Committed,
    private readonly res: ServerResponse,
    private readonly sink: BodySink,
    private readonly resolve: () => void,
  ) {}

  start(): void {
    const { c, res } = this;
    if (c.first !== null) this.write(c.first);
    if (this.done) return;
    // A client that leaves aborts the call (server.ts), which ends this relay through error().
    res.on("drain", this.onDrain);
    c.call.attach(this);
  }

  /** From the upstream call: one more chunk. false asks the call to pause until drain. */
  write(chunk: Buffer): boolean {
    if (this.done) return true;
    const out = this.sink.push(chunk);
    const more = out.length === 0 || this.res.write(out);
    if (this.sink.failure !== null) this.finish(null);
    return more;
  }

  end(): void {
    this.finish(null);
  }

  error(err: Error): void {
    this.finish(err);
  }

  private finish(err: Error | null): void {
    if (this.done) return;
    this.done = true;
    const { c, res, sink } = this;
    res.off("drain", this.onDrain);
    if (err === null) {
      if (sink.failure !== null) {
        // The upstream reported a failure inside its stream: the client has its error event.
        c.call.abort();
        res.end();
        c.finish("broken_stream", sink.failure);
      } else {
        const rest = sink.end();
        if (rest.length === 0) res.end();
        else res.end(rest);
        c.finish();
      }
    } else if (c.ctx.clientGone || res.destroyed) {
      c.call.abort();
      c.finish();
    } else {
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      const tail = sink.broken(code);
      c.finish("broken_stream", `stream broken after the first byte: ${code}`);
      if (tail === null) res.destroy();
      else res.end(tail);
    }
    this.resolve();
  }
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
