import type { Surface } from "../config/schema.js";
import { GatewayError, UpstreamFormatError } from "../errors.js";
import type { Committed } from "../engine/committed.js";
import type { BodySink } from "../engine/upstream-call.js";
import { clientStreamError } from "../providers/client-errors.js";
import { answerHeaders, answerMode, isEventStream, readWhole, rewriteAnswer, streamTranslationFor } from "./answer.js";
import type { BodyTransform } from "./body-transform.js";
import type { ClientSink, Resumable } from "./client-sink.js";
import { usageTapFor } from "./usage-tap.js";

/**
 * Delivers the committed upstream answer into the client's sink, then ends the attempt. Three
 * ways (answer.ts decides which):
 *
 *   pass    the upstream's bytes, chunk by chunk, with backpressure (an SSE stream is never
 *           buffered; its events are relayed whole, see SseBoundary)
 *   stream  an SSE stream from a target of another dialect, translated event by event
 *   buffer  read whole and rewritten (translated JSON, a provider's error, a mapped REST answer)
 *
 * A failure before anything was sent reaches the listener as a GatewayError (the pipeline
 * answers it in the client's dialect); after the first byte, the stream ends with the dialect's
 * error event and the delivery counts as done.
 */
export function deliver(c: Committed, sink: ClientSink, listener: DeliveryListener): void {
  switch (answerMode(c)) {
    case "buffer":
      deliverWhole(c, sink).then(
        (sent) => listener.delivered(sent),
        (err: unknown) => listener.failed(err),
      );
      return;
    case "stream":
      sink.start(c.status, answerHeaders(c));
      return new Pump(c, sink, streamTranslationFor(c), listener).start();
    default: {
      const sse = isEventStream(c.headers);
      sink.start(c.status, answerHeaders(c));
      const relay = sse ? new SseBoundary(c.ctx.surface, c.target.id) : RAW;
      return new Pump(c, sink, usageTapFor(c, relay, sse), listener).start();
    }
  }
}

/** Who waits for a delivery: told once, when the client's answer ended (complete: all of it went out) or could not start. */
export interface DeliveryListener {
  delivered(complete: boolean): void;
  failed(err: unknown): void;
}

/**
 * Reads the answer whole, rewrites it and sends it with its exact length. Nothing is sent before
 * the rewrite succeeds, so a body that breaks or does not parse still gets a proper error (502
 * upstream_error naming the target), and the attempt counts as the target's failure.
 */
async function deliverWhole(c: Committed, sink: ClientSink): Promise<boolean> {
  let text: string;
  try {
    text = await readWhole(c);
  } catch (err) {
    if (sink.gone) {
      c.finish();
      return false;
    }
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    c.finish("broken_stream", `stream broken after the first byte: ${code}`);
    throw new GatewayError("upstream_error", `${c.target.label} broke off its answer (${code})`, { cause: err });
  }
  let out;
  try {
    out = await rewriteAnswer(c, text);
  } catch (err) {
    c.finish("server_error", err instanceof UpstreamFormatError ? err.message : `rewrite failed: ${(err as Error).message}`);
    if (err instanceof UpstreamFormatError) throw new GatewayError("upstream_error", `${c.target.label}: ${err.message}`, { cause: err });
    throw err;
  }
  const watch = c.ctx.watch;
  if (watch !== null) watch.whole(text);
  const sent = !sink.gone;
  if (sent) sink.send(out.status, answerHeaders(c, { contentType: out.contentType, length: Buffer.byteLength(out.body) }), out.body);
  c.finish();
  return sent;
}

/** A non-SSE body that breaks is cut off: the client sees a short body, not a wrong one. */
const RAW: BodyTransform = { push: (chunk) => chunk, end: () => "", broken: () => null, failure: null };

/**
 * Pass-through SSE relayed on event boundaries: a partial event is held until its blank line
 * arrives, so when the upstream breaks mid-stream the client gets whole events, then one
 * well-formed error event in its dialect, then a clean end — never half an event.
 */
class SseBoundary implements BodyTransform {
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
 * One relay in progress: the rest of the body (after the first chunk) from the upstream call's
 * body sink into the client's sink through a transform, with backpressure both ways; tells the
 * listener once the client's answer ended.
 */
class Pump implements BodySink, Resumable {
  private done = false;

  constructor(
    private readonly c: Committed,
    private readonly sink: ClientSink,
    private readonly transform: BodyTransform,
    private readonly listener: DeliveryListener,
  ) {}

  start(): void {
    const c = this.c;
    if (c.first !== null) this.write(c.first);
    if (this.done) return;
    // A client that leaves aborts the call (the front sees to it), which ends this relay through error().
    c.call.attach(this);
  }

  /** The client can take more. */
  resume(): void {
    this.c.call.resume();
  }

  /** From the upstream call: one more chunk. false asks the call to pause until resume(). */
  write(chunk: Buffer): boolean {
    if (this.done) return true;
    const watch = this.c.ctx.watch;
    if (watch !== null) watch.chunk(chunk);
    const out = this.transform.push(chunk);
    let more = true;
    if (out.length > 0 && !this.sink.write(out)) {
      more = false;
      this.sink.waitDrain(this);
    }
    if (this.transform.failure !== null) this.finish(null);
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
    const { c, sink, transform } = this;
    let complete = false;
    if (err === null) {
      if (transform.failure !== null) {
        // The upstream reported a failure inside its stream: the client has its error event.
        c.call.abort();
        sink.end();
        c.finish("broken_stream", transform.failure);
      } else {
        const rest = transform.end();
        sink.end(rest.length === 0 ? undefined : rest);
        c.finish();
        complete = !sink.gone;
      }
    } else if (c.ctx.clientGone || sink.gone) {
      c.call.abort();
      c.finish();
    } else {
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      const tail = transform.broken(code);
      c.finish("broken_stream", `stream broken after the first byte: ${code}`);
      if (tail === null) sink.cut();
      else sink.end(tail);
    }
    this.listener.delivered(complete);
  }
}

/** Index just past the last "\n\n" (or "\r\n\r\n") in the chunk; 0 when it has none. */
function lastEventEnd(chunk: Buffer): number {
  const lf = chunk.lastIndexOf("\n\n");
  const crlf = chunk.lastIndexOf("\r\n\r\n");
  if (lf === -1 && crlf === -1) return 0;
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}
