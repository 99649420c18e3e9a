import type { IncomingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import { GatewayError, internalError } from "../errors.js";
import { RequestContext } from "../core/request-context.js";
import type { Gateway } from "../pipeline/gateway.js";
import type { Resumable } from "../pipeline/client-sink.js";
import { requestIdOf } from "../pipeline/request-id.js";
import type { Surface } from "../config/schema.js";
import { clientErrorBody } from "../providers/client-errors.js";
import { surfaceOfPath, type Match } from "./router.js";
import { WsSink, type WsChannel } from "./ws-sink.js";
import { errorMessage, headersJson, idMember, parseClientMessage, ProtocolError, type RequestMessage } from "./ws-protocol.js";

/** What the WebSocket front logs: its own failures (never a key). */
export interface WsLogger {
  error(obj: object, msg: string): void;
}

/** What a connection needs of the WebSocket front that accepted it. */
export interface WsHost {
  readonly gateway: Gateway;
  readonly log: WsLogger;
  /** The router's answer for a method and path, compiled for the routes running now. */
  match(method: string, path: string): Match;
  readonly maxInFlight: number;
  readonly maxHeaders: number;
  /** Shutdown has begun: a connection closes (1001) once its requests ended. */
  readonly draining: boolean;
  /** The connection closed. */
  forget(conn: WsConnection): void;
}

const EMPTY = Buffer.alloc(0);
const BINARY = new GatewayError("invalid_request", "binary frames are not part of the protocol: send JSON text messages");
/** Close code of a failure inside the gateway (RFC 6455 §7.4.1). */
const INTERNAL_ERROR_CLOSE = 1011;
const GOING_AWAY = 1001;

/**
 * One WebSocket connection: its requests in flight by id, their sinks' channel (send, the
 * socket's backpressure), keepalive and close. Listeners are made once per connection, never per
 * request or message.
 */
export class WsConnection implements WsChannel {
  /** Requests whose last message has not gone yet, by the client's id. */
  private readonly requests = new Map<string, WsSink>();
  /** Requests the pipeline has not finished (a cancelled one counts until its upstream call is let go). */
  inFlight = 0;
  /** Something came from the peer since the last ping. */
  private alive = true;
  private waiters: Resumable[] = [];
  private readonly highWater: number;

  constructor(
    private readonly front: WsHost,
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    /** The upgrade request's headers, less the handshake's: every request's, plus its message's own. */
    private readonly headers: IncomingHttpHeaders,
  ) {
    this.highWater = socket.writableHighWaterMark;
    ws.on("message", this.onMessage);
    ws.on("pong", this.onPong);
    ws.on("error", this.onError);
    ws.on("close", this.onClose);
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** At or above the socket's high-water mark, the socket has said it needs a drain: waitDrain() will be called back. */
  get full(): boolean {
    return this.ws.bufferedAmount >= this.highWater;
  }

  /** Bytes queued for the peer in the gateway now. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  send(text: string): void {
    this.ws.send(text);
  }

  waitDrain(who: Resumable): void {
    this.waiters.push(who);
    if (this.waiters.length === 1) this.socket.once("drain", this.onDrain);
  }

  settled(sink: WsSink): void {
    if (this.requests.get(sink.id) === sink) this.requests.delete(sink.id);
  }

  /** A ping tick: terminated when nothing came since the last one, else pinged. */
  heartbeat(): void {
    if (!this.alive) return this.terminate();
    this.alive = false;
    this.ws.ping();
  }

  /** Shutdown: a close frame (1001); the peer's answer ends the connection. */
  goAway(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(GOING_AWAY, "the gateway is shutting down");
  }

  /** Cuts the connection at once (no close handshake). */
  terminate(): void {
    this.ws.terminate();
  }

  private readonly onDrain = (): void => {
    const list = this.waiters;
    this.waiters = [];
    for (const w of list) w.resume();
  };

  private readonly onPong = (): void => {
    this.alive = true;
  };

  private readonly onError = (): void => {
    // ws closes the connection itself (1009 too large, 1007 bad UTF-8, a reset): onClose follows.
  };

  private readonly onClose = (): void => {
    this.socket.off("drain", this.onDrain);
    this.waiters = [];
    for (const sink of this.requests.values()) sink.closed();
    this.requests.clear();
    this.front.forget(this);
  };

  /** The pipeline finished a request (passed to serve: one function per connection). */
  private readonly onEnded = (): void => {
    this.inFlight--;
    if (this.front.draining && this.inFlight === 0) this.goAway();
  };

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    this.alive = true;
    try {
      if (isBinary) return this.refuse(null, BINARY, "openai");
      const msg = parseClientMessage(textOf(data));
      if (msg instanceof ProtocolError) return this.refuse(msg.id, msg.error, "openai");
      if (msg.type === "cancel") {
        // An id not in flight may have just ended: nothing to do.
        this.requests.get(msg.id)?.cancel();
        return;
      }
      this.request(msg);
    } catch (err) {
      // Never the process, nor the connection's other requests: this connection ends.
      const requestId = requestIdOf(undefined);
      this.front.log.error({ err, request_id: requestId }, "WebSocket: a message could not be handled");
      this.refuse(null, internalError(requestId), "openai");
      this.ws.close(INTERNAL_ERROR_CLOSE, "internal gateway error");
    }
  };

  private request(msg: RequestMessage): void {
    const surface = surfaceOfPath(msg.path);
    if (this.requests.has(msg.id))
      // id null: an error naming the id would read as the answer of the request in flight with it.
      return this.refuse(
        null,
        new GatewayError("invalid_request", `id ${JSON.stringify(msg.id)} is already in flight on this connection`),
        surface,
      );
    const front = this.front;
    if (this.inFlight >= front.maxInFlight)
      return this.refuse(
        msg.id,
        new GatewayError("gateway_rate_limited", `more than ${front.maxInFlight} requests in flight on this WebSocket connection`),
        surface,
      );
    const match = front.match("POST", msg.path);
    if (match.kind !== "llm" && match.kind !== "gemini") return this.refuse(msg.id, notServed(match, msg.path), surface);
    let headers = this.headers;
    if (msg.headers !== undefined) {
      headers = { ...this.headers, ...msg.headers };
      const max = front.maxHeaders;
      if (Object.keys(headers).length > max)
        return this.refuse(
          msg.id,
          new GatewayError("invalid_request", `the request has more than ${max} headers (server.max_headers)`),
          surface,
        );
    }
    const ctx = new RequestContext(requestIdOf(headers["x-request-id"]), match.endpoint, "POST", headers);
    ctx.path = msg.path;
    ctx.query = msg.query;
    const sink = new WsSink(this, msg.id, ctx);
    this.requests.set(msg.id, sink);
    this.inFlight++;
    const body = msg.body === undefined ? EMPTY : Buffer.from(JSON.stringify(msg.body));
    front.gateway.pipeline.serve(ctx, match, body, sink, this.onEnded);
  }

  /** An error message for a message the gateway did not take. */
  private refuse(id: string | null, err: GatewayError, surface: Surface): void {
    if (!this.open) return;
    const h = headersJson({ ...err.headers, "x-switchyard-error": err.code });
    this.ws.send(errorMessage(idMember(id), err.status, h, clientErrorBody(surface, err)));
  }
}

/** A request path the WebSocket front does not carry: the error HTTP would give, or 404 for what is not an LLM call. */
function notServed(match: Match, path: string): GatewayError {
  const shown = path.slice(0, 200);
  switch (match.kind) {
    case "malformed":
      return new GatewayError("invalid_request", match.detail);
    case "method_not_allowed":
      return new GatewayError("method_not_allowed", `POST is not allowed on ${shown} (allowed: ${match.allow})`);
    case "none":
      return new GatewayError("unknown_route", `no route for POST ${shown}`);
    default:
      return new GatewayError(
        "unknown_route",
        `${shown} is not an LLM path: a WebSocket request is a POST to /v1/chat/completions, /v1/messages…`,
      );
  }
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
