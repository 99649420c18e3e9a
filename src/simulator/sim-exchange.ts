/**
 * One request to a simulated provider and the ways to answer it: a JSON body, an error in the
 * dialect's shape, or a stream of events paced by chunk_interval_ms and cut by
 * drop_after_chunks.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { ResolvedSimOptions } from "./sim-options.js";

/**
 * What an exchange needs from its dialect to shape an answer. Declared here rather than
 * imported from sim-dialect.ts: a dialect's methods take the exchange, so sim-dialect.ts
 * imports this file, and importing it back would make a cycle. Dialect extends this.
 */
export interface ExchangeDialect {
  /**
   * Whether a 429 carries a `Retry-After` header. Gemini's do not: the real API puts the delay
   * only in the body (RetryInfo), and a gateway must find it there.
   */
  readonly retryAfterHeader: boolean;
  /** Adds the headers every answer carries (rate limits, request id). */
  headers(ex: SimExchange, out: OutgoingHttpHeaders): void;
  /** The dialect's error body for a status. */
  errorBody(ex: SimExchange, status: number, message: string): unknown;
  /** The event a stream carries when the provider fails after the 200 (stream_error_after_chunks). */
  streamError(ex: SimExchange, index: number): string;
}

/** What an exchange needs from the provider that received it. */
export interface SimHost {
  readonly opts: ResolvedSimOptions;
  readonly dialect: ExchangeDialect;
  /** A fresh id suffix, unique within the process ("a1b2c3d4000017"). */
  nextId(): string;
}

/** Rate-limit state reported in the answer's headers. */
export class LimitState {
  requestsLimit = 10_000;
  requestsRemaining = 9_999;
  /** Ms until the request budget is whole again. */
  requestsResetMs = 6;
  tokensLimit = 1_000_000;
  tokensRemaining = 1_000_000;
  tokensResetMs = 0;
}

export class SimExchange {
  /** Parsed JSON body, the raw string when it is not JSON, undefined when empty. */
  body: unknown = undefined;
  /** Characters in the body, for the token estimate in rate-limit headers. */
  bodyLength = 0;
  /** The sim closed the connection on purpose (not counted as a client abort). */
  dropped = false;
  /** Ms the client should wait, set on 429 answers (0 = none). */
  retryAfterMs = 0;
  readonly limits = new LimitState();
  readonly arrivedAt = Date.now();

  constructor(
    readonly host: SimHost,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly method: string,
    /** Path without the query string. */
    readonly path: string,
    readonly query: URLSearchParams,
    readonly key: string,
  ) {}

  get opts(): ResolvedSimOptions {
    return this.host.opts;
  }

  /** The client went away or the sim dropped the connection: nothing more can be sent. */
  get gone(): boolean {
    return this.res.destroyed;
  }

  headers(contentType: string): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = { "content-type": contentType, "x-sim-name": this.host.opts.name };
    if (this.retryAfterMs > 0 && this.host.dialect.retryAfterHeader) out["retry-after"] = String(Math.ceil(this.retryAfterMs / 1000));
    this.host.dialect.headers(this, out);
    return out;
  }

  json(status: number, body: unknown): void {
    if (this.gone) return;
    const text = JSON.stringify(body);
    const h = this.headers("application/json");
    h["content-length"] = Buffer.byteLength(text);
    this.res.writeHead(status, h);
    this.res.end(text);
  }

  error(status: number, message: string): void {
    this.json(status, this.host.dialect.errorBody(this, status, message));
  }

  /**
   * Sends events with chunk_interval_ms between them; with drop_after_chunks = N, the socket is
   * destroyed once N events are flushed (0: right after the 200 headers), so the client sees a
   * stream cut mid-way rather than a clean end.
   */
  stream(frames: string[], contentType = "text/event-stream", tail = ""): void {
    if (this.gone) return;
    const h = this.headers(contentType);
    h["cache-control"] = "no-cache";
    this.res.writeHead(200, h);
    const failAt = this.opts.stream_error_after_chunks;
    if (failAt !== undefined && failAt < frames.length) {
      frames = frames.slice(0, failAt);
      frames.push(this.host.dialect.streamError(this, failAt));
    }
    const drop = this.opts.drop_after_chunks;
    const upTo = drop === undefined ? frames.length : Math.min(drop, frames.length);
    const cut = drop !== undefined && drop <= frames.length;
    const interval = this.opts.chunk_interval_ms;
    if (interval <= 0) {
      if (!cut) this.res.end(frames.join("") + tail);
      else this.res.write(frames.slice(0, upTo).join(""), () => this.drop());
      return;
    }
    let i = 0;
    const step = (): void => {
      if (this.gone) return;
      if (i >= upTo) {
        if (cut) this.res.write("", () => this.drop());
        else this.res.end(tail);
        return;
      }
      this.res.write(frames[i++]);
      if (i >= upTo) step();
      else setTimeout(step, interval).unref();
    };
    step();
  }

  /** Closes the connection on purpose (after whatever was written is flushed). */
  drop(): void {
    this.dropped = true;
    this.req.socket.destroy();
  }

  /** Resets the connection (TCP RST): the client sees ECONNRESET. */
  resetConnection(): void {
    this.dropped = true;
    this.req.socket.resetAndDestroy();
  }
}
