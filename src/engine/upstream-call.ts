import type { IncomingHttpHeaders } from "node:http";
import { type Dispatcher, util } from "undici";
import { InternalError } from "../errors.js";
import type { FailedDuring } from "./classify.js";

/** Where a committed upstream body goes, chunk by chunk: the pipeline (client delivery, a whole-body read). */
export interface BodySink {
  /** false = slow down: the call pauses until resume(). */
  write(chunk: Buffer): boolean;
  end(): void;
  error(err: Error): void;
}

/** How far a call has got. */
const enum CallPhase {
  Headers,
  FirstChunk,
  Committed,
  ErrorBody,
  Done,
}

/** How far an error body is read (for the provider's message and key problems). */
const ERROR_BODY_LIMIT = 16 * 1024;

export type CallDecision =
  | { readonly kind: "answer"; readonly status: number; readonly headers: IncomingHttpHeaders; readonly first: Buffer | null }
  | {
      readonly kind: "error_body";
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly text: string;
      /** The whole body was read (not cut at 16 KiB, not broken): it can still be relayed as an answer. */
      readonly complete: boolean;
    }
  | {
      readonly kind: "failed";
      readonly error: Error;
      readonly during: FailedDuring;
      readonly status: number;
      readonly headers: IncomingHttpHeaders | null;
    };

const NO_HEADERS: IncomingHttpHeaders = {};
const ABORTED = new InternalError("SWY_ERR_ABORTED");

/**
 * One upstream HTTP call driven through undici's dispatch API: no promise or stream per chunk,
 * no AbortSignal, no wrapper objects. It settles `decided` once the gateway can choose what to do:
 *   - an answer to relay: headers plus the body's first chunk (what arrives before a sink is
 *     attached, a moment later, is held: two chunks at most, the connection waits after that);
 *   - an error body to read (non-relayed statuses), read up to 16 KiB;
 *   - a failure (connect, reset, abort, timeout).
 * After an answer, attach() streams the rest of the body into a sink with backpressure.
 *
 * Successes and plain client errors are answers, relayed as they come; 408, 429 and 5xx are the
 * target's failures, their body read for the provider's message. `readFirst` names more statuses
 * to read whole before deciding (401/403/402 and a provider's own: a 400 saying the key is bad),
 * set per call by the attempt; such a body can still become the answer (`complete`).
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  readonly decided: Promise<CallDecision>;
  private settle!: (d: CallDecision) => void;
  /** undici's abort for this request (from onConnect). */
  private abortCall: ((err: Error) => void) | null = null;
  /** undici's resume after we paused (from onHeaders). */
  private resumeCall: (() => void) | null = null;
  /** We asked undici to pause (onHeaders/onData answered false). */
  private paused = false;
  private abortReason: Error | null = null;
  private phase = CallPhase.Headers;
  private status = 0;
  private headers: IncomingHttpHeaders = NO_HEADERS;
  private errorText = "";
  private errorCut = false;
  private sink: BodySink | null = null;
  /** Chunks that arrived after the first and before a sink (at most two: the call pauses then). */
  private pending: Buffer[] | null = null;
  private ended = false;
  private endError: Error | null = null;
  /** True when the body's first chunk must arrive before the answer is committed. */
  private waitFirst = true;

  constructor(
    /** Statuses to read whole before deciding, beyond those never relayed as they come. */
    private readonly readFirst: ReadonlySet<number>,
    private readonly expectBody: boolean,
  ) {
    this.decided = new Promise((resolve) => (this.settle = resolve));
  }

  /** Aborts the call (timeout, client gone, hedge lost). Safe at any time, idempotent. */
  abort(reason: Error = ABORTED): void {
    if (this.phase === CallPhase.Done) return;
    if (this.abortReason === null) this.abortReason = reason;
    if (this.abortCall !== null) this.abortCall(reason);
  }

  /** Continues reading after backpressure. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeCall?.();
  }

  /** Streams the rest of a committed body into the sink (chunks that waited go first). */
  attach(sink: BodySink): void {
    this.sink = sink;
    const pending = this.pending;
    this.pending = null;
    if (pending !== null) for (const c of pending) sink.write(c);
    if (this.endError !== null) return sink.error(this.endError);
    if (this.ended) return sink.end();
    this.resume();
  }

  // --- undici's dispatch handler, in the callback form undici drives internally: a handler of
  // the newer form (onRequestStart…) gets wrapped in two more objects on every request.

  onConnect(abort: (err?: Error) => void): void {
    this.abortCall = abort;
    if (this.abortReason !== null) abort(this.abortReason);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.resumeCall = resume;
    const headers = util.parseHeaders(rawHeaders) as IncomingHttpHeaders;
    this.status = statusCode;
    this.headers = headers;
    if (!relayed(statusCode, this.readFirst)) {
      this.phase = CallPhase.ErrorBody;
      return true;
    }
    this.waitFirst = this.expectBody && statusCode >= 200 && statusCode < 300 && statusCode !== 204;
    if (!this.waitFirst) {
      // A relayed non-2xx (a client error handed back as is): commit at the headers.
      this.phase = CallPhase.Committed;
      this.paused = true;
      this.settle({ kind: "answer", status: statusCode, headers, first: null });
      return false;
    }
    this.phase = CallPhase.FirstChunk;
    return true;
  }

  onData(chunk: Buffer): boolean {
    switch (this.phase) {
      case CallPhase.FirstChunk:
        // Committed, and not paused: a small answer's end usually comes in this same read, and
        // pausing then resuming the connection for it costs more than anything it would save.
        this.phase = CallPhase.Committed;
        this.settle({ kind: "answer", status: this.status, headers: this.headers, first: chunk });
        return true;
      case CallPhase.Committed:
        if (this.sink === null) {
          // Arrived before the pipeline attached its sink (a moment after the commit): held, and
          // the connection waits from the second such chunk on, so at most two are ever held.
          (this.pending ??= []).push(chunk);
          if (this.pending.length > 1) this.paused = true;
        } else if (!this.sink.write(chunk)) this.paused = true;
        return !this.paused;
      case CallPhase.ErrorBody:
        if (this.errorText.length < ERROR_BODY_LIMIT) this.errorText += chunk.toString("utf8");
        else this.errorCut = true;
        return true;
      default:
        return true;
    }
  }

  onComplete(): void {
    switch (this.phase) {
      case CallPhase.FirstChunk:
        this.phase = CallPhase.Done;
        this.ended = true;
        this.settle({ kind: "answer", status: this.status, headers: this.headers, first: null });
        return;
      case CallPhase.Committed:
        this.phase = CallPhase.Done;
        this.ended = true;
        this.sink?.end();
        return;
      case CallPhase.ErrorBody:
        this.phase = CallPhase.Done;
        this.ended = true;
        this.settle({ kind: "error_body", status: this.status, headers: this.headers, text: this.errorText, complete: !this.errorCut });
        return;
    }
  }

  onError(error: Error): void {
    const err = this.abortReason ?? error;
    const phase = this.phase;
    this.phase = CallPhase.Done;
    switch (phase) {
      case CallPhase.Headers:
        return this.settle({ kind: "failed", error: err, during: "headers", status: 0, headers: null });
      case CallPhase.FirstChunk:
        return this.settle({ kind: "failed", error: err, during: "body", status: this.status, headers: this.headers });
      case CallPhase.Committed:
        this.endError = err;
        this.sink?.error(err);
        return;
      case CallPhase.ErrorBody:
        this.endError = err;
        return this.settle({ kind: "error_body", status: this.status, headers: this.headers, text: this.errorText, complete: false });
    }
  }
}

/** Relayed as it comes: a success or a plain client error (not 408/429, not one to read first). */
function relayed(status: number, readFirst: ReadonlySet<number>): boolean {
  if (status >= 500 || status === 408 || status === 429) return false;
  return status < 400 || readFirst.size === 0 || !readFirst.has(status);
}
