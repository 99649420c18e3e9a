import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { GatewayError } from "../errors.js";
import { ENDPOINTS } from "../core/endpoint.js";
import { RequestContext } from "../core/request-context.js";
import type { Gateway } from "../pipeline/gateway.js";
import { requestIdOf } from "../pipeline/request-id.js";
import { clientErrorBody } from "../providers/client-errors.js";
import { CorsGate } from "./cors.js";
import type { Match } from "./router.js";
import { WsConnection, type WsHost, type WsLogger } from "./ws-connection.js";
import { STREAM_PATH } from "./ws-protocol.js";

/**
 * The WebSocket front: `GET /v1/stream` upgraded on the main listener, then many LLM requests
 * per connection, each through the same pipeline as an HTTP POST (gates, admission, attempts,
 * events), answered as the protocol's messages (ws-protocol.ts) by a WsSink.
 *
 *   upgrade ─ another path, or not a WebSocket ─► replayed as plain HTTP (the Upgrade ignored)
 *           ─ draining / too many headers / browser Origin not in cors.origins ─► plain 503 / 431 / 403
 *           ─ the pipeline's gates refuse the key ─► plain 401 / 403, no upgrade
 *           ─ else: 101, a WsConnection
 *   message ─ request ─► Router.match("POST", path) ─► pipeline.serve(ctx, match, body, WsSink)
 *           ─ cancel  ─► that request's upstream aborted
 *   close   ─► every request in flight on it aborted (as an HTTP client disconnecting)
 *
 * Close codes: 1001 on shutdown (once the connection's requests ended, or at the drain's end),
 * 1009 for a message over server.max_body_bytes (ws closes with it), 1007 for a text frame that is
 * not UTF-8 (ws), 1011 when the gateway itself fails; a peer that misses a ping's pong is
 * terminated (no close frame). A protocol mistake (bad JSON, a binary frame, a bad field) is an
 * error message: the connection stays open.
 */

/** The framing headers of the handshake: never part of a request made on the connection. */
const HANDSHAKE = new Set([
  "connection",
  "upgrade",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "content-length",
  "transfer-encoding",
  // Each request has its own (the message's x-request-id, else a new one).
  "x-request-id",
]);
const SHUTTING_DOWN = new GatewayError("shutting_down", "the gateway is shutting down; retry on another instance");

/** The answer to a plain request (no WebSocket upgrade) on the WebSocket endpoint: 426. */
export function upgradeRequired(): GatewayError {
  return new GatewayError(
    "invalid_request",
    `${STREAM_PATH} is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)`,
    {
      status: 426,
      headers: { upgrade: "websocket" },
    },
  );
}

/**
 * The front itself: takes the main listener's upgrades, keeps the open connections (each a
 * WsConnection, ws-connection.ts), pings them on one shared timer, and drains them on shutdown.
 */
export class WebSocketFront implements WsHost {
  /** Ping period: a peer that has not answered the previous ping (nor sent anything) by the next is terminated. */
  pingIntervalMs = 30_000;
  /** Requests one connection may have in flight; more are answered 429 gateway_rate_limited. */
  maxInFlight = 32;
  /** The server drains: no new connection; each closes (1001) once its requests ended. */
  draining = false;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  private timer: NodeJS.Timeout | undefined = undefined;
  /** Resolves close() once the last connection is gone. */
  private emptied: (() => void) | null = null;
  private readonly cors = new CorsGate();

  constructor(
    readonly gateway: Gateway,
    /** The main listener: its `upgrade` event comes here. */
    private readonly listener: Server,
    readonly log: WsLogger,
    /** The router's answer for a method and path, compiled for the routes running now. */
    readonly match: (method: string, path: string) => Match,
  ) {
    const s = gateway.config.server;
    // No compression: it costs CPU on every event, and a compressed message could hide its size.
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: s.max_body_bytes });
    listener.on("upgrade", this.upgrade);
  }

  /** Connections open now. */
  get size(): number {
    return this.connections.size;
  }

  /** Bytes queued in the gateway for WebSocket clients now (their sockets' send buffers): bounded by backpressure. */
  get bufferedBytes(): number {
    let n = 0;
    for (const c of this.connections) n += c.buffered;
    return n;
  }

  /** Most headers a request may carry (server.max_headers), the connection's and the message's together. */
  get maxHeaders(): number {
    return this.gateway.config.server.max_headers;
  }

  private readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    try {
      this.onUpgrade(req, socket, head);
    } catch (err) {
      this.log.error({ err }, "WebSocket: an upgrade could not be handled");
      socket.destroy();
    }
  };

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    if (path !== STREAM_PATH || req.method !== "GET" || String(req.headers.upgrade).toLowerCase() !== "websocket")
      return replayWithoutUpgrade(this.listener, req, socket, head);
    const requestId = requestIdOf(req.headers["x-request-id"]);
    if (this.draining) return refuse(socket, SHUTTING_DOWN, requestId);
    const max = this.maxHeaders;
    if (req.rawHeaders.length > max * 2)
      return refuse(
        socket,
        new GatewayError("invalid_request", `the request has more than ${max} headers (server.max_headers)`, { status: 431 }),
        requestId,
      );
    // A browser page of any site may open a WebSocket (no preflight): only the origins CORS lists may.
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const cors = this.cors.for(this.gateway.config.cors);
      if (cors === null || cors.allowOrigin(origin) === null)
        return refuse(
          socket,
          new GatewayError("forbidden", "WebSocket connections from this browser origin are refused: list it in cors.origins"),
          requestId,
        );
    }
    const headers = connectionHeaders(req, q === -1 ? "" : url.slice(q + 1));
    const gate = new RequestContext(requestId, ENDPOINTS.chat, "GET", headers);
    gate.path = STREAM_PATH;
    try {
      this.gateway.pipeline.checkGates(gate);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      return refuse(socket, err, requestId);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, socket, headers));
  }

  private open(ws: WebSocket, socket: Duplex, headers: IncomingHttpHeaders): void {
    const conn = new WsConnection(this, ws, socket, headers);
    this.connections.add(conn);
    if (this.draining) return conn.goAway();
    if (this.timer === undefined) {
      this.timer = setInterval(this.heartbeat, this.pingIntervalMs);
      this.timer.unref();
    }
  }

  private readonly heartbeat = (): void => {
    for (const c of this.connections) c.heartbeat();
  };

  /** A connection closed. */
  forget(conn: WsConnection): void {
    this.connections.delete(conn);
    if (this.connections.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.emptied?.();
  }

  /** Shutdown begins: idle connections close now (1001), busy ones once their requests ended. */
  drain(): void {
    this.draining = true;
    for (const c of this.connections) if (c.inFlight === 0) c.goAway();
  }

  /**
   * The drain is over: every connection is closed (1001; its requests in flight are aborted), and
   * a peer that does not answer the close within `graceMs` is cut. Resolves once all are gone.
   */
  async close(graceMs = 1_000): Promise<void> {
    this.draining = true;
    for (const c of this.connections) c.goAway();
    if (this.connections.size === 0) return;
    let grace: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.emptied = resolve;
        grace = setTimeout(() => {
          for (const c of this.connections) c.terminate();
        }, graceMs);
        grace.unref();
      });
    } finally {
      clearTimeout(grace);
      this.emptied = null;
    }
  }
}

/**
 * The headers every request of a connection carries: the upgrade request's, less the
 * handshake's, with a JSON content type. A `?key=` on the upgrade URL (browsers cannot set headers on a
 * WebSocket) counts as the `x-goog-api-key` header, which every surface's gate reads.
 */
function connectionHeaders(req: IncomingMessage, query: string): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  const h = req.headers;
  for (const name in h) if (!HANDSHAKE.has(name) && !name.startsWith("sec-websocket-")) out[name] = h[name];
  out["content-type"] = "application/json";
  if (out["x-goog-api-key"] === undefined && query !== "") {
    const key = new URLSearchParams(query).get("key");
    if (key !== null && key !== "") out["x-goog-api-key"] = key;
  }
  return out;
}

/**
 * A refused upgrade: a plain HTTP answer (the OpenAI / REST error shape), then the socket closed
 * once it is flushed. Nothing of the key is in it.
 */
function refuse(socket: Duplex, err: GatewayError, requestId: string): void {
  const body = JSON.stringify(clientErrorBody("openai", err));
  let head =
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? "Error"}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nx-switchyard-error: ${err.code}\r\n`;
  if (err.headers !== undefined) for (const name in err.headers) head += `${name}: ${err.headers[name]}\r\n`;
  socket.on("error", ignore);
  socket.end(`${head}\r\n${body}`);
  socket.once("finish", destroySocket);
}

/**
 * A request with an Upgrade the gateway does not take (`h2c`, a WebSocket to another path) was
 * handed to the upgrade listener with its socket: its head is written back without the Upgrade
 * and Connection headers (and those Connection named) and the socket given to the listener
 * again, which parses and serves it as plain HTTP, as it did before any upgrade listener.
 */
function replayWithoutUpgrade(listener: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const tokens = String(req.headers.connection ?? "")
    .toLowerCase()
    .split(",")
    .map((t) => t.trim());
  const raw = req.rawHeaders;
  let text = `${req.method ?? "GET"} ${req.url ?? "/"} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === "upgrade" || name === "connection" || tokens.includes(name)) continue;
    text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  // What Connection says of the connection itself (close, keep-alive) still holds.
  const kept = tokens.filter((t) => t === "close" || t === "keep-alive");
  if (kept.length > 0) text += `connection: ${kept.join(", ")}\r\n`;
  const start = Buffer.from(`${text}\r\n`, "latin1");
  socket.unshift(head.length === 0 ? start : Buffer.concat([start, head]));
  listener.emit("connection", socket);
}

function ignore(): void {
  // A refused upgrade's socket: its errors are no one's concern.
}

function destroySocket(this: Duplex): void {
  this.destroy();
}
