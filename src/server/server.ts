import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { timingSafeEqual } from "node:crypto";
import { GatewayError, internalError } from "../errors.js";
import type { Gateway } from "../pipeline/gateway.js";
import { RequestContext } from "../core/request-context.js";
import type { Surface } from "../config/schema.js";
import { Router, surfaceOfPath, type LoadBalancerAction, type Match } from "./router.js";
import type { Route } from "../engine/route.js";
import { loadBalancerConfig, loadBalancerStatus, resetLoadBalancer, selectRoutes } from "../admin/load-balancer-api.js";
import { ENDPOINTS } from "../core/endpoint.js";
import { readBody } from "./body.js";
import { sendError } from "./error-response.js";
import { sendJson } from "./json-response.js";
import { HttpSink } from "./http-sink.js";
import { guardListener, listenerOptions } from "./listener-limits.js";
import { requestIdOf } from "../pipeline/request-id.js";
import type { OperatorEndpoint } from "../core/operator-endpoint.js";
import { serveOperator } from "./operator-response.js";
import { CorsGate, type CorsPolicy } from "./cors.js";
import type { ControlPlane } from "../control/control-plane.js";
import { upgradeRequired, WebSocketFront } from "./websocket.js";
import { STREAM_PATH } from "./ws-protocol.js";

/** An admin body is a target or a patch: a megabyte is far more than any needs. */
const ADMIN_BODY_LIMIT = 1024 * 1024;

export interface ServerLogger {
  error(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * The node:http front of the gateway: routes each request; answers health, status, admin
 * actions and model lists itself, and hands every proxied request to the pipeline with the
 * response as its sink. Never lets a request kill the process.
 */
export class SwitchyardServer {
  readonly http: Server;
  private router: Router;
  /** The route generation the router was compiled for: a reload compiles it again. */
  private routerVersion: number;
  private draining = false;
  /** rawHeaders entries (name and value each) a request may carry: server.max_headers, fixed at start like the listener. */
  private readonly maxHeaderFields: number;
  private readonly closers: (() => Promise<void>)[] = [];
  /** What changes this gateway at run time (reload, admin changes), when startServer made one. */
  control: ControlPlane | undefined = undefined;
  /** CORS of the running config (null while off). */
  private readonly cors = new CorsGate();

  /** The admin API and dashboard's own listener, when `admin.port` is set (then the main one refuses them). */
  readonly adminHttp: Server | undefined;
  /** The WebSocket front (`GET /v1/stream` upgraded), on the main listener. */
  readonly websocket: WebSocketFront;

  constructor(
    readonly gateway: Gateway,
    private readonly log: ServerLogger,
    /** Paths answered for features above the engine (admin API, metrics, usage, dashboard). */
    private readonly operators: readonly OperatorEndpoint[] = [],
  ) {
    this.router = new Router(gateway.table, gateway.config.admin.enabled, operators);
    this.routerVersion = gateway.engine.version;
    this.maxHeaderFields = gateway.config.server.max_headers * 2;
    const split = gateway.config.admin.enabled && gateway.config.admin.port !== undefined;
    this.http = this.makeListener(split ? "main" : "both");
    this.adminHttp = split ? this.makeListener("admin") : undefined;
    this.websocket = new WebSocketFront(gateway, this.http, log, this.matchRoute);
    this.websocket.pingIntervalMs = gateway.config.server.websocket.ping_interval_ms;
    this.websocket.maxInFlight = gateway.config.server.websocket.max_in_flight;
  }

  /** The router's answer, compiled again first when the routes changed (the WebSocket front asks too). */
  private readonly matchRoute = (method: string, path: string): Match => {
    if (this.routerVersion !== this.gateway.engine.version) this.compileRouter();
    return this.router.match(method, path);
  };

  private makeListener(role: ListenerRole): Server {
    const limits = this.gateway.config.server;
    const server = createServer(listenerOptions(limits), (req, res) => {
      let pending: Promise<void> | void;
      try {
        pending = this.handle(req, res, role);
      } catch (err) {
        return this.fail(res, err instanceof GatewayError ? "rest" : "openai", err, "-");
      }
      pending?.catch((err) => this.fail(res, err instanceof GatewayError ? "rest" : "openai", err, "-"));
    });
    guardListener(server, limits);
    return server;
  }

  /** Listens (and on `admin.port` too, when set); resolves with the main listener's address. */
  async listen(port = this.gateway.config.server.port, host = this.gateway.config.server.host): Promise<AddressInfo> {
    const main = await listenOn(this.http, port, host);
    const admin = this.gateway.config.admin;
    if (this.adminHttp !== undefined)
      try {
        await listenOn(this.adminHttp, admin.port ?? 0, admin.host ?? host);
      } catch (err) {
        this.http.close();
        throw err;
      }
    return main;
  }

  get url(): string {
    return urlOf(this.http);
  }

  /** The admin listener's URL (`admin.port`), else the main one's. */
  get adminUrl(): string {
    return urlOf(this.adminHttp ?? this.http);
  }

  /** Synchronous for everything but model lists, which return their promise (the pipeline never throws). */
  private handle(req: IncomingMessage, res: ServerResponse, role: ListenerRole): Promise<void> | void {
    const requestId = requestIdOf(req.headers["x-request-id"]);
    if (this.draining) res.setHeader("connection", "close");
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    if (req.rawHeaders.length > this.maxHeaderFields) return this.tooManyHeaders(req, res, path, requestId);
    if (this.routerVersion !== this.gateway.engine.version) this.compileRouter();
    const cors = this.cors.for(this.gateway.config.cors);
    if (cors !== null && this.answeredCors(req, res, cors, path, role, requestId)) return;
    if (path === STREAM_PATH && role !== "admin") {
      // The WebSocket endpoint without an upgrade (an upgrade goes to the WebSocket front).
      req.resume();
      return sendError(res, "openai", upgradeRequired(), requestId);
    }
    let match = this.router.match(req.method ?? "GET", path);
    if (role !== "both" && !servesOn(match, role)) match = { kind: "none", surface: "rest" };
    switch (match.kind) {
      case "healthz":
        return sendJson(res, this.draining ? 503 : 200, { status: this.draining ? "draining" : "ok" }, requestId);
      case "operator":
        return this.operator(req, res, match.endpoint, match.params, q === -1 ? "" : url.slice(q + 1), requestId);
      case "load_balancer":
        req.resume();
        return this.loadBalancer(req, res, match.action, match.routes, q === -1 ? "" : url.slice(q + 1), requestId);
      case "models": {
        // Behind the client keys like every LLM call: a client without a valid key learns no model.
        const gate = new RequestContext(requestId, match.surface === "gemini" ? ENDPOINTS.generate : ENDPOINTS.chat, "GET", req.headers);
        gate.query = q === -1 ? "" : url.slice(q + 1);
        try {
          this.gateway.pipeline.checkGates(gate);
        } catch (err) {
          return this.fail(res, match.surface, err, requestId);
        }
        return this.modelList(match.surface, match.prefix).then((body) => sendJson(res, 200, body, requestId));
      }
      case "malformed":
        req.resume();
        return sendError(res, match.surface, new GatewayError("invalid_request", match.detail), requestId);
      case "none":
        req.resume();
        return sendError(res, match.surface, new GatewayError("unknown_route", `no route for ${req.method} ${path}`), requestId);
      case "method_not_allowed": {
        req.resume();
        const err = new GatewayError("method_not_allowed", `${req.method} is not allowed on ${path} (allowed: ${match.allow})`, {
          headers: { allow: match.allow },
        });
        return sendError(res, match.surface, err, requestId);
      }
      default: {
        // Every proxied request: the one pipeline, this response as its sink.
        const ctx = new RequestContext(
          requestId,
          match.kind === "rest" ? ENDPOINTS.rest : match.endpoint,
          req.method ?? "GET",
          req.headers,
        );
        ctx.path = path;
        ctx.query = q === -1 ? "" : url.slice(q + 1);
        const sink = new HttpSink(res, ctx, this.isDraining);
        if (cors !== null) sink.cors = true;
        return this.gateway.pipeline.serve(ctx, match, readBody(req, this.gateway.config.server.max_body_bytes), sink);
      }
    }
  }

  private readonly isDraining = (): boolean => this.draining;

  /**
   * CORS is on: a preflight for a path this listener serves is answered here (true); any other
   * request gets its CORS headers set before its answer writes its own.
   */
  private answeredCors(
    req: IncomingMessage,
    res: ServerResponse,
    cors: CorsPolicy,
    path: string,
    role: ListenerRole,
    requestId: string,
  ): boolean {
    const origin = req.headers.origin;
    const asked = req.headers["access-control-request-method"];
    if (req.method === "OPTIONS" && origin !== undefined && asked !== undefined) {
      const match = this.router.match(asked.toUpperCase(), path);
      if (match.kind !== "none" && (role === "both" || servesOn(match, role))) {
        req.resume();
        cors.preflight(res, origin, requestId);
        return true;
      }
    }
    cors.decorate(res, origin);
    return false;
  }

  /** Node keeps the headers past its count without a word: more than server.max_headers is a 431 here. */
  private tooManyHeaders(req: IncomingMessage, res: ServerResponse, path: string, requestId: string): void {
    req.resume();
    const max = this.maxHeaderFields / 2;
    const err = new GatewayError("invalid_request", `the request has more than ${max} headers (server.max_headers)`, { status: 431 });
    res.setHeader("connection", "close");
    sendError(res, surfaceOfPath(path), err, requestId);
  }

  /** The routes changed (a reload): the router is compiled again for them, once. */
  private compileRouter(): void {
    this.routerVersion = this.gateway.engine.version;
    this.router = new Router(this.gateway.table, this.gateway.config.admin.enabled, this.operators);
  }

  /** An operator endpoint's answer (admin ones behind the admin token); its errors in the REST dialect. */
  private async operator(
    req: IncomingMessage,
    res: ServerResponse,
    e: OperatorEndpoint,
    params: Readonly<Record<string, string>>,
    query: string,
    requestId: string,
  ): Promise<void> {
    try {
      if (e.admin) this.checkAdmin(req);
      await serveOperator(req, res, e, params, query, requestId, ADMIN_BODY_LIMIT);
    } catch (err) {
      this.fail(res, "rest", err, requestId);
    }
  }

  /** The balancer's management endpoints under an LLM prefix (reset behind the admin token, when one is set). */
  private loadBalancer(
    req: IncomingMessage,
    res: ServerResponse,
    action: LoadBalancerAction,
    under: readonly Route[],
    query: string,
    requestId: string,
  ): void {
    try {
      if (action === "reset") this.checkAdmin(req);
      const routes = selectRoutes(under, new URLSearchParams(query).get("route"));
      const body =
        action === "status"
          ? loadBalancerStatus(routes)
          : action === "config"
            ? loadBalancerConfig(routes)
            : resetLoadBalancer(routes, (name) => this.gateway.engine.resetStats(name));
      sendJson(res, 200, body, requestId);
    } catch (err) {
      this.fail(res, "rest", err, requestId);
    }
  }

  /** Runs `fn` once the server has shut down (after the gateway closed): flush a ledger, stop a listener. */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /** With admin.token set (the token running now: a reload may change it), admin endpoints need `Authorization: Bearer <token>`. */
  private checkAdmin(req: IncomingMessage): void {
    const token = this.gateway.config.admin.token;
    if (token === undefined) return;
    const auth = req.headers.authorization;
    if (auth === undefined || !safeEqual(auth, `Bearer ${token}`))
      throw new GatewayError("unauthorized", "admin endpoints need Authorization: Bearer <admin.token>");
  }

  private async modelList(surface: Surface, prefix: string) {
    const created = Math.floor(this.gateway.startedAt / 1000);
    const models = await this.gateway.models(surface === "gemini" ? "gemini" : "openai", prefix);
    if (surface === "gemini")
      return {
        models: models.map((m) => ({
          name: `models/${m.id}`,
          displayName: m.id,
          supportedGenerationMethods: ["generateContent", "streamGenerateContent"],
        })),
      };
    return { object: "list", data: models.map((m) => ({ id: m.id, object: "model", created, owned_by: `switchyard:${m.route}` })) };
  }

  private fail(res: ServerResponse, surface: Surface, err: unknown, requestId: string): void {
    let gerr: GatewayError;
    if (err instanceof GatewayError) gerr = err;
    else {
      this.log.error({ err, request_id: requestId }, "internal error while serving a request");
      gerr = internalError(requestId);
    }
    sendError(res, surface, gerr, requestId, this.draining);
  }

  /**
   * Stops accepting, lets in-flight requests finish (at most drainMs), then closes every
   * connection and the upstream pools.
   */
  async shutdown(drainMs = this.gateway.config.server.drain_timeout_ms): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.gateway.engine.draining = true;
    this.websocket.drain();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    const admin = this.adminHttp;
    if (admin !== undefined) {
      admin.close();
      admin.closeAllConnections();
    }
    await this.gateway.engine.idle(drainMs);
    // Upgraded sockets are not the listener's connections any more: closed here, or `closed` would wait on them.
    await this.websocket.close();
    this.http.closeAllConnections();
    await closed;
    await this.gateway.close(1_000);
    for (const fn of this.closers) {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err }, "error while closing");
      }
    }
  }
}

/** Which paths a listener answers: both kinds, the traffic only (main, with admin.port set), or the admin only. */
type ListenerRole = "both" | "main" | "admin";

/** The admin API and the dashboard go to the admin listener; everything else (traffic, /metrics, the balancer's endpoints) to the main one. */
function servesOn(match: Match, role: "main" | "admin"): boolean {
  const operatorUi = match.kind === "operator" && (match.endpoint.admin || match.endpoint.path.startsWith("/dashboard"));
  return role === "admin" ? operatorUi || match.kind === "healthz" : !operatorUi;
}

function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function urlOf(server: Server): string {
  const a = server.address() as AddressInfo;
  return `http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
