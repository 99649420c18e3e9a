import type { InboundLimits as InboundLimitsConfig } from "../config/access-schema.js";
import type { Config } from "../config/schema.js";
import type { GatewayEvents, RequestRecord } from "../core/events.js";
import type { RequestContext } from "../core/request-context.js";
import type { Route } from "../engine/route.js";
import { GatewayError } from "../errors.js";
import type { AdmissionStep } from "../pipeline/admission.js";
import type { SharedConfig } from "../config/shared-schema.js";
import { type LimitCounter, localCounter } from "./limit-counter.js";
import { type InFlight, LimitScope, type Policy, seconds, Tightest, Verdict } from "./limit-scope.js";
import { type LimitsLogger, RedisLimits } from "./redis-limits.js";
import { DEFAULT_MAX_OUTPUT, estimateTokens, loadTokenCounter, tokenCounter } from "./token-estimate.js";

/**
 * The gateway's own inbound limits, as an admission step: the client key's (`client_keys[].limits`,
 * by ctx.clientKey), the route's (`routes[].limits`) and the gateway's (`limits`, whose
 * max_parallel is the gateway-wide semaphore). A request is checked against every limit that
 * applies before anything is taken, so a refusal costs no other bucket anything:
 *
 *   check key → route → global (rps, rpm, tpm, max_parallel)   any refused → 429 gateway_rate_limited
 *   take from all of them, note a Ticket under the request id   RateLimit headers of the tightest
 *   the request's event (once, however it ended)              → give the parallel slots back,
 *                                                                correct tpm from the answer's usage
 *
 * Releasing on the request event covers every way a request ends after admission: an answer, an
 * upstream failure, a client that went away, a later admission step that refused it. The state is
 * rebuilt when the config object changes (a reload); a limit whose numbers did not change keeps
 * its state. Without any limit in the config, a request costs one comparison.
 *
 * With `config.shared`, the windows and buckets are counted in Redis for every instance together
 * (redis-limits.ts: one script per admission, so the step awaits it), max_parallel as each
 * instance's share. While Redis does not answer, each instance counts alone, every limit divided
 * by the instances last seen (`on_outage: split`) or whole (`local`), and goes back to Redis once
 * it answers: no request fails because Redis is down or slow.
 */
export interface InboundLimitsOptions {
  /** The clock, ms, monotonic (default performance.now()); tests pass their own. */
  now?: () => number;
  /** Output tokens reserved when a request sets no maximum. */
  defaultMaxOutput?: number;
  /**
   * The limits of the client key of this name (the client-keys registry's, which also knows the
   * keys made through the admin API); default: `config.client_keys`. Read per request: a key's
   * new limits apply at its next request, its unchanged ones keep their state.
   */
  keyLimits?: (name: string) => InboundLimitsConfig | undefined;
  /** Where a Redis outage is said, once when it starts and once when it ends (with `config.shared`). */
  log?: LimitsLogger;
  /**
   * How many instances are alive (with `config.shared`), which an outage divides the limits by;
   * default: those beating in `<prefix>limits:instances`. The state transport's count fits here.
   */
  instances?: () => number;
}

/** What the step needs of the gateway: its running config and its events. */
export interface LimitedGateway {
  readonly config: Config;
  readonly events: GatewayEvents;
}

/** What one admitted request holds until it ends. Pooled: fixed shape, reset on release. */
class Ticket {
  requestId = "";
  /**
   * The request's own `ctx.tries` array, which its record carries as is (pipeline.ts): the one
   * identity a record and its context share. Request ids come from clients (x-request-id) and may
   * repeat, and a request refused before this step must not release another's ticket of that id.
   */
  tries: readonly unknown[] | null = null;
  /** Another request that came with the same request id, admitted before this one. */
  next: Ticket | null = null;
  /** The estimate of the request's tokens (0: none taken). */
  tokens = 0;
  /** Where its tokens were counted (this process or Redis), and the scopes counted (the split ones in an outage). */
  counter: LimitCounter = localCounter;
  s0: LimitScope | null = null;
  s1: LimitScope | null = null;
  s2: LimitScope | null = null;
  /** What each scope's bucket took (an estimate larger than a bucket takes the whole bucket). */
  t0 = 0;
  t1 = 0;
  t2 = 0;
  p0: InFlight | null = null;
  p1: InFlight | null = null;
  p2: InFlight | null = null;
}

const POOL_MAX = 1024;

export class InboundLimits implements AdmissionStep {
  readonly name = "inbound-limits";
  private config: Config | null = null;
  private global: LimitScope | undefined = undefined;
  private routes = new Map<string, LimitScope>();
  private readonly keys = new Map<string, LimitScope>();
  /** The config's client keys' limits, by name (when no keyLimits was given). */
  private configKeys = new Map<string, InboundLimitsConfig>();
  private readonly keyLimits: (name: string) => InboundLimitsConfig | undefined;
  private subscribed = false;
  /** Admitted requests not yet ended, by request id. */
  private readonly tickets = new Map<string, Ticket>();
  private readonly pool: Ticket[] = [];
  private readonly verdict = new Verdict();
  private readonly tightest = new Tightest();
  private readonly now: () => number;
  private readonly defaultMaxOutput: number;
  private readonly log: LimitsLogger | undefined;
  private readonly instancesOption: (() => number) | undefined;
  /** The Redis counter (config.shared), and the config it was made from. */
  private remote: RedisLimits | null = null;
  private remoteFrom: SharedConfig | undefined = undefined;
  /** Requests counted in this process because Redis did not answer. */
  private fallbacks = 0;

  constructor(
    private readonly gateway: LimitedGateway,
    options: InboundLimitsOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.defaultMaxOutput = options.defaultMaxOutput ?? DEFAULT_MAX_OUTPUT;
    this.keyLimits = options.keyLimits ?? ((name) => this.configKeys.get(name));
    this.log = options.log;
    this.instancesOption = options.instances;
    this.rebuild(gateway.config);
  }

  admit(ctx: RequestContext, route: Route): void | Promise<void> {
    const config = this.gateway.config;
    if (config !== this.config) this.rebuild(config);
    let k = ctx.clientKey === "" ? undefined : this.keyScope(ctx.clientKey);
    let r = this.routes.get(route.name);
    let g = this.global;
    if (k === undefined && r === undefined && g === undefined) return;
    let tokens = 0;
    if ((countsTokens(k) || countsTokens(r) || countsTokens(g)) && ctx.json !== undefined && ctx.surface !== "rest") {
      const count = tokenCounter();
      // Loaded when a config with tpm arrives; only a request racing that load waits for it.
      if (count === null) return loadTokenCounter().then(() => this.admit(ctx, route));
      tokens = estimateTokens(ctx, count, this.defaultMaxOutput);
    }
    const now = this.now();
    const remote = this.remote;
    if (remote !== null) {
      if (remote.usable) return this.admitShared(ctx, k, r, g, tokens, remote);
      this.fallbacks++;
      if (config.shared?.on_outage === "split") {
        const n = this.instances();
        k = k?.share(n, now);
        r = r?.share(n, now);
        g = g?.share(n, now);
      }
    }
    const v = this.verdict.reset();
    const t = this.tightest.reset();
    localCounter.take(k, r, g, tokens, now, v, t);
    if (v.scope !== null) throw refusal(v, tokens);
    this.admitted(ctx, k, r, g, tokens, localCounter, t);
  }

  /** Closes the connection to Redis (with `config.shared`); the gateway's close() calls it. */
  async shutdown(): Promise<void> {
    const remote = this.remote;
    this.remote = null;
    this.remoteFrom = undefined;
    await remote?.close();
  }

  /** An admission counted in Redis; counted here (split or whole) when Redis does not answer in time. */
  private async admitShared(
    ctx: RequestContext,
    k: LimitScope | undefined,
    r: LimitScope | undefined,
    g: LimitScope | undefined,
    tokens: number,
    remote: RedisLimits,
  ): Promise<void> {
    // Verdict and tightest of its own: the step's are overwritten by other requests while this one waits.
    const v = new Verdict();
    const t = new Tightest();
    if (await remote.take(k, r, g, tokens, 0, v, t)) {
      if (v.scope !== null) throw refusal(v, tokens);
      this.admitted(ctx, k, r, g, tokens, remote, t);
      return;
    }
    this.fallbacks++;
    const now = this.now();
    if (this.gateway.config.shared?.on_outage !== "local") {
      const n = this.instances();
      k = k?.share(n, now);
      r = r?.share(n, now);
      g = g?.share(n, now);
    }
    localCounter.take(k, r, g, tokens, now, v.reset(), t.reset());
    if (v.scope !== null) throw refusal(v, tokens);
    this.admitted(ctx, k, r, g, tokens, localCounter, t);
  }

  private admitted(
    ctx: RequestContext,
    k: LimitScope | undefined,
    r: LimitScope | undefined,
    g: LimitScope | undefined,
    tokens: number,
    counter: LimitCounter,
    t: Tightest,
  ): void {
    this.hold(ctx, k, r, g, tokens, counter);
    if (t.policy === null) return;
    const h = (ctx.responseHeaders ??= {});
    h["ratelimit-policy"] = t.policy.item;
    h["ratelimit"] = t.field();
  }

  /** The instances alive, as the transport or the Redis heartbeat last saw them (at least 1). */
  private instances(): number {
    return Math.max(1, this.instancesOption?.() ?? this.remote?.instances ?? 1);
  }

  /** Closes the Redis counter when `config.shared` changed (prepared() opens the new one once something is limited). */
  private shareBy(shared: SharedConfig | undefined): void {
    if (JSON.stringify(shared) === JSON.stringify(this.remoteFrom)) return;
    const old = this.remote;
    this.remoteFrom = shared;
    this.remote = null;
    void old?.close();
  }

  /** Admitted requests that have not ended yet (0 once traffic stops: nothing leaked). */
  get pending(): number {
    let n = 0;
    for (const head of this.tickets.values()) {
      let t: Ticket | null = head;
      for (; t !== null; t = t.next) n++;
    }
    return n;
  }

  /** Every scope's limits and what is left of them now (for /admin/status). */
  status(): InboundLimitsStatus {
    if (this.gateway.config !== this.config) this.rebuild(this.gateway.config);
    const now = this.now();
    const routes: Record<string, ScopeStatus> = {};
    const keys: Record<string, ScopeStatus> = {};
    for (const [name, s] of this.routes) routes[name] = scopeStatus(s, now);
    for (const [name, s] of this.keys) if (this.keyScope(name) === s) keys[name] = scopeStatus(s, now);
    const status: InboundLimitsStatus = {
      global: this.global === undefined ? null : scopeStatus(this.global, now),
      routes,
      client_keys: keys,
    };
    const shared = this.sharedStatus();
    if (shared !== undefined) status.shared = shared;
    return status;
  }

  /** With `config.shared` and something limited: whether Redis counts now, instances, outages, requests counted here meanwhile (status, metrics). */
  sharedStatus(): InboundLimitsStatus["shared"] {
    const remote = this.remote;
    if (remote === null) return undefined;
    return { redis: remote.healthy ? "up" : "down", instances: this.instances(), outages: remote.outages, counted_locally: this.fallbacks };
  }

  private rebuild(config: Config): void {
    const now = this.now();
    this.global = scope("global", "global", config.limits, this.global, now);
    const routes = new Map<string, LimitScope>();
    for (const rc of config.routes) {
      const s = scope(`route-${rc.name}`, `route "${rc.name}"`, rc.limits, this.routes.get(rc.name), now);
      if (s !== undefined) routes.set(rc.name, s);
    }
    this.configKeys = new Map(config.client_keys.map((k) => [k.name, k.limits]));
    this.routes = routes;
    this.config = config;
    this.shareBy(config.shared);
    // Key scopes are made at their key's first request (keyScope); those of keys gone are dropped.
    let tpm = countsTokens(this.global);
    for (const s of routes.values()) tpm ||= countsTokens(s);
    for (const name of [...this.keys.keys()]) if (countsTokens(this.keyScope(name))) tpm = true;
    for (const k of config.client_keys) tpm ||= k.limits.tpm !== undefined;
    let keys = false;
    for (const k of config.client_keys) keys ||= LimitScope.limits(k.limits);
    this.prepared(this.global !== undefined || routes.size > 0 || keys, tpm);
  }

  /** The scope of the client key of this name, made or remade when its limits changed; undefined: the key limits nothing. */
  private keyScope(name: string): LimitScope | undefined {
    const limits = this.keyLimits(name);
    const old = this.keys.get(name);
    if (old !== undefined && old.limits === limits) return old;
    if (limits === undefined || !LimitScope.limits(limits)) {
      if (old !== undefined) this.keys.delete(name);
      return undefined;
    }
    const s = new LimitScope(`key-${name}`, `key "${name}"`, limits, old, this.now());
    this.keys.set(name, s);
    this.prepared(true, s.tpm !== null);
    return s;
  }

  /**
   * Subscribes to the request events once a scope exists (and, with `config.shared`, connects to
   * Redis), and loads the tokenizer ahead of the first request once a tpm limit does.
   */
  private prepared(scopes: boolean, tpm: boolean): void {
    const shared = this.remoteFrom;
    if ((scopes || tpm) && shared !== undefined && this.remote === null) this.remote = RedisLimits.open(shared, this.log);
    // A failure to load surfaces at the first request (its admit awaits the same promise).
    if (tpm) loadTokenCounter().catch(() => undefined);
    if ((scopes || tpm) && !this.subscribed) {
      this.subscribed = true;
      this.gateway.events.onRequest(this.ended);
    }
  }

  private hold(
    ctx: RequestContext,
    k: LimitScope | undefined,
    r: LimitScope | undefined,
    g: LimitScope | undefined,
    tokens: number,
    counter: LimitCounter,
  ): void {
    const t = this.pool.pop() ?? new Ticket();
    t.requestId = ctx.requestId;
    t.tries = ctx.tries;
    t.tokens = tokens;
    t.p0 = k?.inFlight ?? null;
    t.p1 = r?.inFlight ?? null;
    t.p2 = g?.inFlight ?? null;
    if (tokens > 0) {
      t.counter = counter;
      t.s0 = k?.tpm ? k : null;
      t.t0 = k?.tokensToTake(tokens) ?? 0;
      t.s1 = r?.tpm ? r : null;
      t.t1 = r?.tokensToTake(tokens) ?? 0;
      t.s2 = g?.tpm ? g : null;
      t.t2 = g?.tokensToTake(tokens) ?? 0;
    }
    // Ids may repeat: the newest goes first in the chain.
    t.next = this.tickets.get(t.requestId) ?? null;
    this.tickets.set(t.requestId, t);
  }

  /** A request ended (once each): what it held goes back; its tokens are corrected to what the answer used. */
  private readonly ended = (record: RequestRecord): void => {
    if (this.tickets.size === 0) return;
    const head = this.tickets.get(record.requestId);
    if (head === undefined) return;
    let prev: Ticket | null = null;
    let t: Ticket | null = head;
    while (t !== null && t.tries !== record.tries) {
      prev = t;
      t = t.next;
    }
    // Not admitted here (refused before or by this step) while another of its id was.
    if (t === null) return;
    if (prev !== null) prev.next = t.next;
    else if (t.next === null) this.tickets.delete(record.requestId);
    else this.tickets.set(record.requestId, t.next);
    this.release(t, record);
  };

  private release(t: Ticket, record: RequestRecord): void {
    if (t.p0 !== null) t.p0.n--;
    if (t.p1 !== null) t.p1.n--;
    if (t.p2 !== null) t.p2.n--;
    if (t.tokens > 0) {
      const used = usedTokens(record, t.tokens);
      const now = this.now();
      if (t.s0 !== null) t.counter.adjust(t.s0, t.t0 - used, now);
      if (t.s1 !== null) t.counter.adjust(t.s1, t.t1 - used, now);
      if (t.s2 !== null) t.counter.adjust(t.s2, t.t2 - used, now);
    }
    t.next = t.p0 = t.p1 = t.p2 = t.s0 = t.s1 = t.s2 = t.tries = null;
    t.counter = localCounter;
    t.tokens = t.t0 = t.t1 = t.t2 = 0;
    if (this.pool.length < POOL_MAX) this.pool.push(t);
  }
}

export interface ScopeStatus {
  limits: LimitScope["limits"];
  in_flight: number;
  remaining: { rps?: number; rpm?: number; tpm?: number; parallel?: number };
}

export interface InboundLimitsStatus {
  global: ScopeStatus | null;
  routes: Record<string, ScopeStatus>;
  client_keys: Record<string, ScopeStatus>;
  /** With `config.shared`: whether Redis counts the limits now, the instances alive, outages so far, requests counted here meanwhile. */
  shared?: { redis: "up" | "down"; instances: number; outages: number; counted_locally: number };
}

function countsTokens(s: LimitScope | undefined): boolean {
  return s !== undefined && s.tpm !== null;
}

function scope(
  id: string,
  label: string,
  limits: LimitScope["limits"],
  previous: LimitScope | undefined,
  now: number,
): LimitScope | undefined {
  return LimitScope.limits(limits) ? new LimitScope(id, label, limits, previous, now) : undefined;
}

function scopeStatus(s: LimitScope, now: number): ScopeStatus {
  const remaining: ScopeStatus["remaining"] = {};
  if (s.rps !== null) remaining.rps = s.rps.remaining(now);
  if (s.rpm !== null) remaining.rpm = s.rpm.remaining(now);
  if (s.tpm !== null) remaining.tpm = Math.floor(s.tpm.available(now));
  if (s.maxParallel > 0) remaining.parallel = Math.max(0, s.maxParallel - s.inFlight.n);
  return { limits: s.limits, in_flight: s.inFlight.n, remaining };
}

/**
 * The tokens a request really used: the answer's usage when it said so; otherwise the estimate
 * when an answer went out (a stream the client left, usage not sent: tokens were spent), and
 * nothing when no answer did (refused, failed, no target reached).
 */
function usedTokens(record: RequestRecord, estimate: number): number {
  const u = record.usage;
  if (u !== null) return u.total_tokens > 0 ? u.total_tokens : u.prompt_tokens + u.completion_tokens;
  return record.target !== null && record.status < 400 ? estimate : 0;
}

/** The 429: the first limit refused named, Retry-After the longest wait of all refused (whole seconds, at least 1). */
function refusal(v: Verdict, tokens: number): GatewayError {
  const scope = v.scope as LimitScope;
  const policy = v.policy as Policy;
  const retry = Math.max(1, seconds(v.waitMs));
  let detail = policy.describe;
  const left = v.left;
  if (policy.kind === "tpm") {
    detail = `${policy.describe}; this request needs ${tokens}, ${left} left`;
  }
  const headers = {
    "retry-after": String(retry),
    "ratelimit-policy": policy.item,
    ratelimit: policy.kind === "parallel" ? `${policy.head}0` : `${policy.head}${left};t=${Math.max(1, seconds(v.firstWaitMs))}`,
  };
  return new GatewayError("gateway_rate_limited", `${scope.label} ${policy.kind} limit reached (${detail}); retry after ${retry} s`, {
    headers,
  });
}
