/**
 * A fake provider on a real node:http server that misbehaves on cue. Each request runs this
 * script, then its dialect answers:
 *
 *   arrive ─ reset? → TCP RST
 *          ─ read body ─ hang? → never answer
 *          ─ wait latency ± jitter
 *          ─ no key / revoked key → 401; exhausted key → the dialect's "out of credits"
 *          ─ key over quota → 429 + Retry-After (until the key's window resets)
 *          ─ dice < rate_limit_rate → 429 + Retry-After (retry_after_s)
 *            (Gemini: no Retry-After header, the delay is the body's RetryInfo)
 *          ─ dice < error_rate → error_status
 *          ─ dialect answers (JSON or paced stream, maybe dropped mid-way)
 *
 * Control API: GET /_sim/stats, GET|POST /_sim/config, POST /_sim/reset, served on the
 * provider port while it is up, and always on a second listener (control_port, controlUrl)
 * that `down` leaves alone: a harness that took the provider down over HTTP can bring it back
 * over HTTP. GET /health (health_status) is on the provider port only: it goes down with it.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { anthropicDialect } from "./dialect-anthropic.js";
import { geminiDialect } from "./dialect-gemini.js";
import { openaiDialect } from "./dialect-openai.js";
import { restDialect } from "./dialect-rest.js";
import type { Dialect } from "./sim-dialect.js";
import { KeyQuota } from "./key-quota.js";
import { Rng } from "./rng.js";
import { SimExchange, type SimHost } from "./sim-exchange.js";
import {
  defaultSimOptions,
  FIXED_KEYS,
  patchFromData,
  simOptionsPatchSchema,
  simOptionsSchema,
  type ResolvedSimOptions,
  type SimDialect,
  type SimOptions,
} from "./sim-options.js";
import { SimStats, type SimStatsSnapshot, type StatsTicket } from "./sim-stats.js";
import { estimateTokens } from "./text.js";

export interface SimProvider {
  /** Base URL a gateway target uses: openai → http://127.0.0.1:P/v1, others → http://127.0.0.1:P. */
  readonly url: string;
  /** Origin without the dialect's base path: /health, and the control API while the provider is up. */
  readonly origin: string;
  readonly port: number;
  /** Origin of the control listener ("http://127.0.0.1:P"): the control API, up even while `down`. */
  readonly controlUrl: string;
  readonly options: Readonly<SimOptions>;
  /**
   * Applies options at run time; `down` stops listening on the provider port (the control
   * listener stays up), `down: false` listens again on the same port.
   */
  set(patch: Partial<SimOptions>): Promise<void>;
  stats(): SimStatsSnapshot;
  resetStats(): void;
  /** Closes both listeners and every open socket (hung ones too). */
  close(): Promise<void>;
}

const DIALECTS: Record<SimDialect, Dialect> = {
  openai: openaiDialect,
  anthropic: anthropicDialect,
  gemini: geminiDialect,
  rest: restDialect,
};

let instances = 0;

class Live {
  constructor(
    readonly ex: SimExchange,
    readonly ticket: StatsTicket,
  ) {}
}

class SimProviderImpl implements SimProvider, SimHost {
  opts: ResolvedSimOptions;
  readonly dialect: Dialect;
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  /** Serves only the control API and never goes down, so `down: false` can always reach the sim. */
  readonly #controlServer: http.Server;
  readonly #controlSockets = new Set<Socket>();
  /** Requests not yet ended, so down/close can mark them dropped before cutting their sockets. */
  readonly #live = new Set<SimExchange>();
  readonly #stats: SimStats;
  readonly #quota = new KeyQuota();
  readonly #rng: Rng;
  readonly #idPrefix: string;
  #ids = 0;
  #port = 0;
  #controlPort = 0;
  #listening = false;
  #closed = false;
  /** set() calls run one after another (down/up are asynchronous). */
  #chain: Promise<void> = Promise.resolve();
  #frozen: Readonly<SimOptions>;
  /** Resolves #goDown's wait once the last live request has ended. */
  #drained: (() => void) | undefined = undefined;

  constructor(options: SimOptions) {
    const { rest_response, ...data } = options;
    simOptionsSchema.parse(data);
    if (options.port !== undefined && options.port !== 0 && options.port === options.control_port) {
      throw new Error(`sim ${options.name ?? options.dialect}: control_port must differ from port (${options.port})`);
    }
    this.opts = { ...defaultSimOptions(options.dialect) };
    for (const k of Object.keys(options) as (keyof SimOptions)[]) {
      if (options[k] !== undefined) (this.opts as unknown as Record<string, unknown>)[k] = options[k];
    }
    this.opts.rest_response = rest_response;
    this.#frozen = Object.freeze({ ...this.opts });
    this.dialect = DIALECTS[options.dialect];
    this.#stats = new SimStats(this.opts.name);
    this.#rng = new Rng(this.opts.seed);
    this.#idPrefix = ((++instances * 0x9e3779b1) >>> 0).toString(16).padStart(8, "0");
    this.#server = http.createServer({ noDelay: true, requestTimeout: 0, keepAliveTimeout: 10_000 }, this.#onRequest);
    trackSockets(this.#server, this.#sockets);
    this.#controlServer = http.createServer({ noDelay: true, keepAliveTimeout: 10_000 }, this.#onControlRequest);
    trackSockets(this.#controlServer, this.#controlSockets);
  }

  get port(): number {
    return this.#port;
  }

  get origin(): string {
    return `http://${this.#urlHost()}:${this.#port}`;
  }

  get controlUrl(): string {
    return `http://${this.#urlHost()}:${this.#controlPort}`;
  }

  get url(): string {
    return this.origin + this.dialect.basePath;
  }

  get options(): Readonly<SimOptions> {
    return this.#frozen;
  }

  nextId(): string {
    return this.#idPrefix + (++this.#ids).toString(16).padStart(6, "0");
  }

  async start(): Promise<void> {
    await this.#listen(this.opts.port);
    try {
      this.#controlPort = await listen(this.#controlServer, this.opts.control_port, this.opts.host);
    } catch (err) {
      await this.#goDown();
      throw err;
    }
    if (this.opts.down) await this.#goDown();
  }

  set(patch: Partial<SimOptions>): Promise<void> {
    const run = this.#chain.then(() => this.#apply(patch));
    this.#chain = run.catch(() => {});
    return run;
  }

  stats(): SimStatsSnapshot {
    return this.#stats.snapshot();
  }

  resetStats(): void {
    this.#stats.reset();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#chain;
    if (this.#listening) await this.#goDown();
    await shutDown(this.#controlServer, this.#controlSockets);
  }

  /** The host part of a URL to this sim: a wildcard address is reached on loopback. */
  #urlHost(): string {
    const h = this.opts.host;
    return h === "0.0.0.0" || h === "::" ? "127.0.0.1" : h.includes(":") ? `[${h}]` : h;
  }

  async #apply(patch: Partial<SimOptions>): Promise<void> {
    if (this.#closed) throw new Error(`sim ${this.opts.name} is closed`);
    if (patch.dialect !== undefined && patch.dialect !== this.opts.dialect) throw new Error("a sim's dialect cannot change");
    const { rest_response, ...data } = patch;
    simOptionsPatchSchema.parse(Object.fromEntries(Object.entries(data).filter(([k, v]) => !FIXED_KEYS.has(k) && v !== undefined)));
    const defaults = defaultSimOptions(this.opts.dialect);
    const o = this.opts as unknown as Record<string, unknown>;
    for (const k of Object.keys(patch) as (keyof SimOptions)[]) {
      if (FIXED_KEYS.has(k)) continue;
      o[k] = patch[k] === undefined ? defaults[k] : patch[k];
    }
    if ("rest_response" in patch) this.opts.rest_response = rest_response;
    if ("seed" in patch) this.#rng.reseed(this.opts.seed);
    if ("key_quota" in patch) this.#quota.clear();
    this.#frozen = Object.freeze({ ...this.opts });
    if (this.opts.down && this.#listening) await this.#goDown();
    else if (!this.opts.down && !this.#listening) await this.#listen(this.#port);
  }

  async #listen(port: number): Promise<void> {
    this.#port = await listen(this.#server, port, this.opts.host);
    this.#listening = true;
  }

  /** Stops listening and cuts every connection, so clients see refused connections, not stale keep-alives. */
  async #goDown(): Promise<void> {
    this.#listening = false;
    for (const ex of this.#live) ex.dropped = true;
    await shutDown(this.#server, this.#sockets);
    // Cut requests end on their sockets' close events; wait for them so stats are final.
    if (this.#live.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        timer = setTimeout(resolve, 1000);
        timer.unref();
      });
      clearTimeout(timer);
      this.#drained = undefined;
    }
  }

  #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
    if (path.startsWith("/_sim/")) return this.#control(req, res, path, true);
    if (path === "/health" && req.method === "GET") {
      this.#stats.healthChecks++;
      const status = this.opts.health_status;
      res.writeHead(status, { "content-type": "application/json", "x-sim-name": this.opts.name });
      res.end(status < 400 ? '{"status":"ok"}' : '{"status":"unhealthy"}');
      return;
    }
    const method = req.method ?? "GET";
    const ex = new SimExchange(this, req, res, method, path, query, this.dialect.key(req, query));
    const live = new Live(ex, this.#stats.begin(ex.arrivedAt, ex.key, method, path));
    this.#live.add(ex);
    res.once("close", () => this.#end(live));
    if (this.opts.reset) return ex.resetConnection();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () => {
      const first = chunks[0];
      if (first !== undefined) {
        const text = chunks.length === 1 ? first.toString("utf8") : Buffer.concat(chunks).toString("utf8");
        ex.bodyLength = text.length;
        try {
          ex.body = JSON.parse(text);
        } catch {
          ex.body = text;
        }
      }
      if (this.opts.hang) return;
      const delay = this.#delay();
      if (delay > 0) setTimeout(this.#decide, delay, ex).unref();
      else this.#decide(ex);
    });
  };

  #delay(): number {
    const { latency_ms, jitter_ms } = this.opts;
    if (jitter_ms <= 0) return latency_ms;
    return Math.max(0, latency_ms + (this.#rng.next() * 2 - 1) * jitter_ms);
  }

  #decide = (ex: SimExchange): void => {
    if (ex.gone) return;
    const o = this.opts;
    const l = ex.limits;
    const tokens = Math.min(l.tokensLimit, estimateTokens(ex.bodyLength));
    l.tokensRemaining = l.tokensLimit - tokens;
    l.tokensResetMs = Math.ceil((tokens * 60_000) / l.tokensLimit);
    if (ex.key === "" && o.require_key) return ex.error(401, "Missing API key: pass one in the dialect's auth header.");
    if (ex.key !== "" && o.revoked_keys.includes(ex.key))
      return ex.error(401, `Invalid API key provided: ****${ex.key.slice(-4)} (revoked).`);
    if (ex.key !== "" && o.exhausted_keys.includes(ex.key)) return this.dialect.exhausted(ex);
    if (o.key_quota !== undefined) {
      const admitted = this.#quota.take(ex.key, Date.now(), o.key_quota.requests, o.key_quota.window_s * 1000);
      l.requestsLimit = o.key_quota.requests;
      l.requestsRemaining = this.#quota.remaining;
      l.requestsResetMs = this.#quota.resetMs;
      if (!admitted) {
        ex.retryAfterMs = Math.max(1, this.#quota.resetMs);
        return ex.error(429, `Rate limit reached for requests: limit ${o.key_quota.requests} per ${o.key_quota.window_s}s.`);
      }
    }
    if (o.rate_limit_rate > 0 && this.#rng.next() < o.rate_limit_rate) {
      ex.retryAfterMs = o.retry_after_s * 1000;
      l.requestsRemaining = 0;
      l.requestsResetMs = ex.retryAfterMs;
      return ex.error(429, "Rate limit reached for requests. Please try again later.");
    }
    if (o.error_rate > 0 && this.#rng.next() < o.error_rate) {
      return ex.error(o.error_status, o.error_status === 529 ? "Overloaded" : "The server had an error while processing your request.");
    }
    this.dialect.handle(ex);
  };

  #end(live: Live): void {
    const { ex, ticket } = live;
    this.#live.delete(ex);
    const res = ex.res;
    const status = res.headersSent ? res.statusCode : 0;
    const how = res.writableFinished && !ex.dropped ? "completed" : ex.dropped ? "dropped" : "aborted";
    this.#stats.end(ticket, status, how);
    if (this.#live.size === 0) this.#drained?.();
  }

  #onControlRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    this.#control(req, res, q < 0 ? raw : raw.slice(0, q), false);
  };

  /** The control API; viaProvider: the request came in on the provider port (which `down` cuts). */
  #control(req: IncomingMessage, res: ServerResponse, path: string, viaProvider: boolean): void {
    const reply = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    // control_url in the answers: a harness that takes the provider down through its own port learns where to bring it back.
    if (req.method === "GET" && path === "/_sim/stats") return reply(200, { ...this.stats(), control_url: this.controlUrl });
    if (req.method === "GET" && path === "/_sim/config") return reply(200, this.options);
    if (req.method === "POST" && path === "/_sim/reset") {
      this.resetStats();
      return reply(200, { ok: true });
    }
    if (req.method !== "POST" || path !== "/_sim/config") return reply(404, { error: `no control route ${req.method} ${path}` });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () => {
      let patch: Partial<SimOptions>;
      try {
        const parsed = simOptionsPatchSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}"));
        if (!parsed.success) return reply(400, { error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
        patch = patchFromData(parsed.data);
      } catch (err) {
        return reply(400, { error: `invalid JSON: ${(err as Error).message}` });
      }
      // Going down cuts every socket on the provider port, this one too when it came that way:
      // answer first, then go down. On the control port, go down before answering.
      const { down, ...rest } = patch;
      const goingDown = down === true && viaProvider;
      this.set(goingDown ? rest : patch).then(
        () => {
          if (goingDown) res.once("finish", () => void this.set({ down: true }).catch(() => {}));
          reply(200, { ok: true, options: this.options, control_url: this.controlUrl });
        },
        (err: unknown) => reply(400, { error: (err as Error).message }),
      );
    });
  }
}

/** Listens on host:port (0 = OS-chosen) and resolves with the port bound. */
function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * Stops listening and destroys every socket. Resolves once each socket has closed (the server's
 * own close callback can come first) and the event loop has turned once more, so an in-process
 * client (tests, the demo's gateway) has read the FIN: otherwise its pool may reuse a dead
 * keep-alive socket and see "other side closed" instead of reconnecting into ECONNREFUSED.
 */
async function shutDown(server: http.Server, sockets: ReadonlySet<Socket>): Promise<void> {
  const closed = [new Promise<void>((resolve) => server.close(() => resolve()))];
  for (const s of sockets) {
    if (!s.closed) closed.push(new Promise<void>((resolve) => s.once("close", () => resolve())));
    s.destroy();
  }
  await Promise.all(closed);
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Keeps a server's open sockets, so going down or closing can cut them (keep-alive and hung ones too). */
function trackSockets(server: http.Server, sockets: Set<Socket>): void {
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
}

export async function startSimProvider(options: SimOptions): Promise<SimProvider> {
  const sim = new SimProviderImpl(options);
  await sim.start();
  return sim;
}
