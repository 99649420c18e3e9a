import type { OutgoingHttpHeaders } from "node:http";
import type { Surface } from "../config/schema.js";
import { GatewayError } from "../errors.js";
import type { RequestContext } from "../core/request-context.js";
import type { ClientSink, Resumable } from "../pipeline/client-sink.js";
import { BUFFER_LIMIT } from "../pipeline/answer.js";
import { clientErrorBody } from "../providers/client-errors.js";
import { SseParser, type SseEvent } from "../providers/sse.js";
import { doneMessage, errorMessage, eventMessage, headersJson, idMember, responseMessage } from "./ws-protocol.js";

/** What a request's sink needs of its WebSocket connection. */
export interface WsChannel {
  /** The socket is open: messages can still be sent. */
  readonly open: boolean;
  /** The socket's send buffer is above its high-water mark: the answer's pump waits for drain. */
  readonly full: boolean;
  send(text: string): void;
  /** Calls `who.resume()` once the socket's buffer drained. */
  waitDrain(who: Resumable): void;
  /** The request's last message went: its id is free again on the connection. */
  settled(sink: WsSink): void;
}

/** The SSE `[DONE]` sentinel of OpenAI streams: the done message says it. */
const DONE_SENTINEL = "[DONE]";

const enum Mode {
  /** Nothing started yet. */
  None,
  /** A streamed answer: one event message per SSE event. */
  Events,
  /** A non-SSE answer relayed in chunks: gathered, then one response message. */
  Whole,
}

/**
 * The sink of one request on a WebSocket connection: what the pipeline sends becomes the
 * protocol's messages, tagged with the request's id. A streamed answer is parsed into its SSE
 * events as it comes (an event message each, no buffering beyond a partial event); any other
 * answer is one response message; a failure one error message. write() says false while the
 * socket's buffer is above its high-water mark, so the upstream read pauses exactly as over HTTP.
 * A cancel or the socket closing aborts the upstream call (the context's abort).
 */
export class WsSink implements ClientSink {
  status = 0;
  /** Set once the request's last message (done, response, error) went: nothing is sent after. */
  private settled = false;
  /** Cancelled by the client, or dropped by the gateway (an answer too large to gather). */
  private cancelled = false;
  private readonly idm: string;
  /** The answer's kept headers, for its first message; null once sent. */
  private headers: string | null = null;
  private mode = Mode.None;
  private parser: SseParser | null = null;
  private chunks: Buffer[] | null = null;
  private size = 0;

  constructor(
    private readonly channel: WsChannel,
    readonly id: string,
    readonly ctx: RequestContext,
  ) {
    this.idm = idMember(id);
  }

  get gone(): boolean {
    return this.cancelled || this.ctx.clientGone || !this.channel.open;
  }

  send(status: number, headers: OutgoingHttpHeaders, body: string | Buffer): void {
    this.status = status;
    this.settle(responseMessage(this.idm, status, headersJson(headers), typeof body === "string" ? body : body.toString("utf8")));
  }

  start(status: number, headers: OutgoingHttpHeaders): void {
    this.status = status;
    this.headers = headersJson(headers);
    if (String(headers["content-type"] ?? "").startsWith("text/event-stream")) {
      this.mode = Mode.Events;
      this.parser = new SseParser();
    } else {
      this.mode = Mode.Whole;
      this.chunks = [];
    }
  }

  write(chunk: string | Buffer): boolean {
    if (this.settled || this.gone) return true;
    if (this.mode === Mode.Events) this.events((this.parser as SseParser).push(chunk));
    else this.gather(chunk);
    return !this.channel.full;
  }

  waitDrain(who: Resumable): void {
    this.channel.waitDrain(who);
  }

  end(tail?: string | Buffer): void {
    if (tail !== undefined && tail.length > 0) this.write(tail);
    if (this.settled || this.gone) return;
    if (this.mode === Mode.Events) {
      this.events((this.parser as SseParser).end());
      this.settle(doneMessage(this.idm, this.status, this.takeHeaders()));
      return;
    }
    const cs = this.chunks ?? [];
    const text = cs.length === 1 ? (cs[0] as Buffer).toString("utf8") : Buffer.concat(cs, this.size).toString("utf8");
    this.chunks = null;
    this.settle(responseMessage(this.idm, this.status, this.takeHeaders(), text));
  }

  cut(): void {
    // Over HTTP the client would see a short body: here, an error naming what happened.
    const err = new GatewayError("upstream_error", "the upstream broke off its answer; it is incomplete");
    this.settle(errorMessage(this.idm, err.status, this.takeHeaders(), clientErrorBody(this.ctx.surface, err)));
  }

  fail(err: GatewayError, surface: Surface): void {
    this.status = err.status;
    const h: OutgoingHttpHeaders = { ...err.headers, "x-request-id": this.ctx.requestId, "x-switchyard-error": err.code };
    this.settle(errorMessage(this.idm, err.status, headersJson(h), clientErrorBody(surface, err)));
  }

  /** A cancel message: the upstream call is aborted, and the client told at once (499 client_closed). */
  cancel(): void {
    if (this.settled) return;
    const err = new GatewayError("client_closed", "the request was cancelled by the client");
    // The status stays the answer's when it had started (as an HTTP client leaving mid-stream is logged).
    if (this.status === 0) this.status = err.status;
    const h: OutgoingHttpHeaders = { "x-request-id": this.ctx.requestId, "x-switchyard-error": err.code };
    this.settle(errorMessage(this.idm, err.status, this.takeHeaders() ?? headersJson(h), clientErrorBody(this.ctx.surface, err)));
    this.cancelled = true;
    this.abort();
  }

  /** The socket closed: the upstream call is aborted, as when an HTTP client disconnects. */
  closed(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.status === 0) this.status = 499;
    this.abort();
  }

  private abort(): void {
    this.ctx.clientGone = true;
    this.ctx.abort();
  }

  private events(list: readonly SseEvent[]): void {
    for (const ev of list) {
      if (ev.data === DONE_SENTINEL) continue;
      this.channel.send(eventMessage(this.idm, ev.event, ev.data, this.takeHeaders()));
    }
  }

  /** A non-SSE answer, gathered up to the limit the pipeline itself buffers; past it, an error and the upstream aborted. */
  private gather(chunk: string | Buffer): void {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.size += b.length;
    if (this.size <= BUFFER_LIMIT) {
      this.chunks?.push(b);
      return;
    }
    this.chunks = null;
    const err = new GatewayError(
      "upstream_error",
      `the answer is larger than ${BUFFER_LIMIT} bytes, more than a WebSocket message carries here`,
    );
    this.settle(errorMessage(this.idm, err.status, this.takeHeaders(), clientErrorBody(this.ctx.surface, err)));
    this.cancelled = true;
    this.abort();
  }

  private takeHeaders(): string | null {
    const h = this.headers;
    this.headers = null;
    return h;
  }

  /** Sends the request's last message; frees its id on the connection. */
  private settle(text: string): void {
    if (this.settled) return;
    this.settled = true;
    if (this.channel.open) this.channel.send(text);
    this.channel.settled(this);
  }
}
