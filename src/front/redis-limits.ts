import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { SharedConfig } from "../config/shared-schema.js";
import type { ClientContext, Redis, Result } from "ioredis";
import { helperRedis, quitRedis } from "../state/redis-client.js";
import type { LimitCounter } from "./limit-counter.js";
import type { LimitScope, Policy, Tightest, Verdict } from "./limit-scope.js";
import { ADJUST_SCRIPT, ADMIT_SCRIPT, PRESENCE_SCRIPT } from "./limits-script.js";

/** Windows above this many units share entries (the bound of sliding-window.ts). */
const EXACT_MAX = 4096;
/** How often an instance says it is alive (and, while Redis is down, asks whether it is back). */
const BEAT_MS = 1000;
/** An instance silent this long is gone: no longer counted when the limits are split. */
const GONE_MS = 3500;

/** What the limits say about Redis. */
export interface LimitsLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisLimitsOptions {
  url: string;
  /** Every key starts with it: `<prefix>limits:<scope>:<kind>`, `<prefix>limits:instances`. */
  prefix: string;
  /** A Redis call slower than this counts as failed: the request is counted locally instead. */
  timeoutMs: number;
  /** This instance's name (a random suffix keeps two gateways of one process apart). */
  instance: string;
  /** Told once when Redis stops answering and once when it answers again (never with a secret). */
  onHealth?: (up: boolean, detail: string) => void;
}

/** How one scope's windows and buckets are asked for: made once per scope, reused by every request. */
class ScopeSpec {
  readonly keys: string[] = [];
  /** 3 per limit: kind, capacity, window or period ms (limits-script.ts). */
  readonly args: (string | number)[] = [];
  /** Each limit's policy and capacity, in the reply's order. */
  readonly policies: Policy[] = [];
  readonly capacities: number[] = [];
  /** The tpm bucket's key, capacity and period (adjust), "" when none. */
  readonly bucketKey: string = "";

  constructor(s: LimitScope, base: string) {
    if (s.rps !== null) this.window(`${base}rps`, s.rps.capacity, s.rps.windowMs, s.rpsPolicy as Policy);
    if (s.rpm !== null) this.window(`${base}rpm`, s.rpm.capacity, s.rpm.windowMs, s.rpmPolicy as Policy);
    if (s.tpm !== null) {
      this.bucketKey = `${base}tpm`;
      this.keys.push(this.bucketKey);
      this.args.push("b", s.tpm.capacity, 60_000);
      this.policies.push(s.tpmPolicy as Policy);
      this.capacities.push(s.tpm.capacity);
    }
  }

  private window(key: string, capacity: number, windowMs: number, policy: Policy): void {
    // A coarse window keeps its entries apart from an exact one's: a reload across the bound starts it afresh.
    if (capacity <= EXACT_MAX) {
      this.keys.push(key);
      this.args.push("w", capacity, windowMs);
    } else {
      this.keys.push(`${key}:g`, `${key}:g:n`);
      this.args.push("g", capacity, windowMs);
    }
    this.policies.push(policy);
    this.capacities.push(capacity);
  }
}

/**
 * The inbound limits counted in Redis for every instance of the gateway together (a LimitCounter).
 * One admission is one EVALSHA of ADMIT_SCRIPT over all the request's windows and buckets, on
 * Redis's clock: 100 rps per key across 3 instances is 100 rps in total. Keys are
 * `<prefix>limits:<scope>:<kind>` (scope: `key-<name>`, `route-<name>`, `global`) and expire once
 * idle. max_parallel stays in each process: its share of the limit, divided by the instances alive
 * (a lease in Redis would have to outlive a crashed instance's requests and be refreshed while a
 * stream runs; a share needs neither).
 *
 * Redis is never a dependency of an answer: no offline queue, every call bounded by `timeoutMs`;
 * a call that fails or times out answers false (the caller counts locally), marks Redis down
 * (told once) and stops further calls until the next heartbeat (every second) gets an answer.
 * The heartbeat also counts the instances alive (`<prefix>limits:instances`, a sorted set by last
 * beat), which is what an outage divides the limits by.
 */
export class RedisLimits implements LimitCounter {
  private readonly redis: Redis;
  private readonly specs = new WeakMap<LimitScope, ScopeSpec>();
  private readonly member: string;
  private readonly presenceKey: string;
  private readonly timer: NodeJS.Timeout;
  /** null: not known yet (nothing said so far). */
  private up: boolean | null = null;
  private alive = 1;
  private closed = false;
  /** Times Redis stopped answering. */
  outages = 0;

  constructor(private readonly options: RedisLimitsOptions) {
    this.member = `${options.instance}#${randomBytes(4).toString("hex")}`;
    this.presenceKey = `${options.prefix}limits:instances`;
    this.redis = helperRedis(options.url, options.timeoutMs);
    this.redis.defineCommand("limitsAdmit", { lua: ADMIT_SCRIPT });
    this.redis.defineCommand("limitsAdjust", { lua: ADJUST_SCRIPT, numberOfKeys: 1 });
    this.redis.defineCommand("limitsPresence", { lua: PRESENCE_SCRIPT, numberOfKeys: 1 });
    this.redis.on("error", this.failed);
    // A dropped connection may come without an error: admissions stop going there at once.
    this.redis.on("close", this.dropped);
    this.redis.on("ready", this.beat);
    this.timer = setInterval(this.beat, BEAT_MS);
    this.timer.unref();
  }

  /** The counter of a `shared` config block, saying on `log` when Redis stops answering and when it answers again. */
  static open(shared: SharedConfig, log: LimitsLogger | undefined): RedisLimits {
    const alone = shared.on_outage === "split" ? "every limit divided by the instances last seen" : "every limit whole";
    return new RedisLimits({
      url: shared.redis.url,
      prefix: shared.redis.prefix,
      timeoutMs: shared.redis.timeout_ms,
      instance: shared.instance ?? `${hostname()}-${process.pid}`,
      onHealth: (up, detail) =>
        up
          ? log?.info({ limits: "redis" }, "inbound limits: Redis answers; the limits are counted there for every instance")
          : log?.warn(
              { limits: "redis", detail, on_outage: shared.on_outage },
              `inbound limits: Redis does not answer; each instance counts alone (${alone}) until it does`,
            ),
    });
  }

  /** Whether admissions go to Redis now (connected and answering). */
  get usable(): boolean {
    return this.up === true && this.redis.status === "ready";
  }

  /** Whether Redis answered last time it was asked. */
  get healthy(): boolean {
    return this.up === true;
  }

  /** The instances alive at the last heartbeat that got an answer (this one included; at least 1). */
  get instances(): number {
    return this.alive;
  }

  take(
    k: LimitScope | undefined,
    r: LimitScope | undefined,
    g: LimitScope | undefined,
    tokens: number,
    _now: number,
    v: Verdict,
    t: Tightest,
  ): Promise<boolean> {
    const n = this.alive;
    // max_parallel first, in this process: a slot is held while Redis is asked, so concurrent requests cannot all pass.
    if (k !== undefined) parallelCheck(k, n, v);
    if (r !== undefined) parallelCheck(r, n, v);
    if (g !== undefined) parallelCheck(g, n, v);
    if (v.scope !== null) return Promise.resolve(true);
    const ks = k === undefined ? undefined : this.spec(k);
    const rs = r === undefined ? undefined : this.spec(r);
    const gs = g === undefined ? undefined : this.spec(g);
    const keys: string[] = [];
    const args: (string | number)[] = [tokens];
    if (ks !== undefined) add(ks, keys, args);
    if (rs !== undefined) add(rs, keys, args);
    if (gs !== undefined) add(gs, keys, args);
    if (keys.length === 0) {
      hold(k, r, g, n, t);
      return Promise.resolve(true);
    }
    if (k !== undefined) k.inFlight.n++;
    if (r !== undefined) r.inFlight.n++;
    if (g !== undefined) g.inFlight.n++;
    return this.redis.limitsAdmit(keys.length, ...keys, ...args).then(
      (reply) => {
        const admitted = reply[0] === 1;
        let i = 1;
        if (ks !== undefined) i = read(reply, i, k as LimitScope, ks, admitted, v, t);
        if (rs !== undefined) i = read(reply, i, r as LimitScope, rs, admitted, v, t);
        if (gs !== undefined) read(reply, i, g as LimitScope, gs, admitted, v, t);
        if (admitted) offerParallel(k, r, g, n, t);
        else release(k, r, g);
        return true;
      },
      (err: Error) => {
        release(k, r, g);
        this.failed(err);
        return false;
      },
    );
  }

  adjust(scope: LimitScope, n: number): void {
    const spec = this.specs.get(scope);
    if (spec === undefined || spec.bucketKey === "" || n === 0 || !this.usable) return;
    const cap = scope.tpm?.capacity ?? 0;
    this.redis.limitsAdjust(spec.bucketKey, cap, 60_000, n).catch(this.failed);
  }

  /** Stops the heartbeat, leaves the instances' set and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.redis.status === "ready") await this.redis.zrem(this.presenceKey, this.member).catch(() => undefined);
    await quitRedis(this.redis);
  }

  private spec(s: LimitScope): ScopeSpec {
    let spec = this.specs.get(s);
    if (spec === undefined) this.specs.set(s, (spec = new ScopeSpec(s, `${this.options.prefix}limits:${s.id}:`)));
    return spec;
  }

  private readonly beat = (): void => {
    if (this.closed || this.redis.status !== "ready") return;
    this.redis.limitsPresence(this.presenceKey, this.member, GONE_MS).then((alive) => {
      this.alive = Math.max(1, Number(alive));
      this.health(true, "answering");
    }, this.failed);
  };

  private readonly dropped = (): void => {
    this.health(false, "connection closed");
  };

  private readonly failed = (err: Error): void => {
    this.health(false, err.message);
  };

  private health(up: boolean, detail: string): void {
    if (up === this.up || this.closed) return;
    if (!up && this.up === true) this.outages++;
    this.up = up;
    this.options.onHealth?.(up, detail);
  }
}

declare module "ioredis" {
  interface RedisCommander<Context extends ClientContext> {
    limitsAdmit(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number[], Context>;
    limitsAdjust(key: string, capacity: number, periodMs: number, n: number): Result<number, Context>;
    limitsPresence(key: string, member: string, goneMs: number): Result<number, Context>;
  }
}

function add(spec: ScopeSpec, keys: string[], args: (string | number)[]): void {
  for (const key of spec.keys) keys.push(key);
  for (const a of spec.args) args.push(a);
}

/** Reads one scope's limits from the reply (3 numbers each) into the verdict or the tightest; returns the next index. */
function read(reply: number[], i: number, s: LimitScope, spec: ScopeSpec, admitted: boolean, v: Verdict, t: Tightest): number {
  for (let j = 0; j < spec.policies.length; j++, i += 3) {
    const policy = spec.policies[j] as Policy;
    const remaining = Math.max(0, reply[i] as number);
    if (admitted) t.offer(policy, remaining, spec.capacities[j] as number, reply[i + 2] as number);
    else if ((reply[i + 1] as number) > 0) v.refuse(s, policy, reply[i + 1] as number, policy.kind === "tpm" ? remaining : 0);
  }
  return i;
}

function parallelCheck(s: LimitScope, n: number, v: Verdict): void {
  const max = s.parallelShare(n);
  // Nothing tells when a slot frees: the client is asked to come back in a second.
  if (max > 0 && s.inFlight.n >= max) v.refuse(s, s.parallelPolicy as Policy, 1000);
}

/** Admitted without Redis (the scopes limit only max_parallel): the slots taken and offered. */
function hold(k: LimitScope | undefined, r: LimitScope | undefined, g: LimitScope | undefined, n: number, t: Tightest): void {
  if (k !== undefined) k.inFlight.n++;
  if (r !== undefined) r.inFlight.n++;
  if (g !== undefined) g.inFlight.n++;
  offerParallel(k, r, g, n, t);
}

function offerParallel(k: LimitScope | undefined, r: LimitScope | undefined, g: LimitScope | undefined, n: number, t: Tightest): void {
  if (k !== undefined) offerShare(k, n, t);
  if (r !== undefined) offerShare(r, n, t);
  if (g !== undefined) offerShare(g, n, t);
}

function offerShare(s: LimitScope, n: number, t: Tightest): void {
  const max = s.parallelShare(n);
  if (max > 0) t.offer(s.parallelPolicy as Policy, Math.max(0, max - s.inFlight.n), max, -1);
}

function release(k: LimitScope | undefined, r: LimitScope | undefined, g: LimitScope | undefined): void {
  if (k !== undefined) k.inFlight.n--;
  if (r !== undefined) r.inFlight.n--;
  if (g !== undefined) g.inFlight.n--;
}
