import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { helperRedis, quitRedis, RedisSubscriber } from "./redis-client.js";
import type { StateTransport } from "./state-transport.js";

export interface RedisTransportOptions {
  url: string;
  /** Every key and the channel start with it: instances with the same prefix are one gateway. */
  prefix: string;
  /** A Redis call slower than this counts as failed. */
  timeoutMs: number;
  /** This instance's name (default: hostname-pid, with a suffix for a second transport in one process). */
  instance?: string | undefined;
  /** How long an instance stays listed without refreshing its entry, ms (default 5 s). */
  instanceTtlMs?: number;
  /** How often this instance refreshes its entry and reads the others', ms (default 1 s). */
  refreshMs?: number;
}

const DEFAULT_INSTANCE_TTL_MS = 5000;
const DEFAULT_REFRESH_MS = 1000;
const SCAN_COUNT = 500;
/** Transports made in this process: a second one gets a suffix, so two in-process gateways never share a name. */
let made = 0;

/**
 * The policies' state shared through one Redis (or Valkey), for instances on any machine:
 *
 *   publish(key, json) ── MULTI  SET <prefix>state:<key> <json>  (DEL when null)
 *                               PUBLISH <prefix>state-changes "<instance>\n<key>\n<json>"  EXEC
 *   subscriber connection ── a message from another instance ──► onChange(key, json)
 *   snapshot() ── SCAN <prefix>state:* + MGET
 *   every refreshMs ── SET <prefix>instances:<instance> PX instanceTtlMs, SCAN <prefix>instances:*
 *
 * The keys carry no TTL: a state may last as long as an operator wants (a breaker held open, a key
 * disabled "until enabled"), and the states that end carry their own deadline (open_until, until),
 * so an old one read back means nothing is in force; a forgotten target's keys are deleted.
 *
 * SET and PUBLISH run as one transaction, so the messages arrive in the order Redis applied the
 * writes. A message from another instance about a key this instance has a write in flight for is
 * not passed on: that write comes after it in Redis, and is the state every instance ends with.
 *
 * Never a dependency of a request: no offline queue (a publish while the link is down is dropped:
 * the replicated store publishes it again when the link is back), every command bounded by
 * `timeoutMs`, no promise rejected at a caller except snapshot()'s (the store retries it).
 */
export class RedisTransport implements StateTransport {
  readonly instance: string;
  private readonly cmd: Redis;
  private readonly sub: RedisSubscriber;
  private readonly channel: string;
  private readonly statePrefix: string;
  private readonly instancePrefix: string;
  private readonly instanceTtlMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly changeListeners: ((key: string, json: string | null) => void)[] = [];
  private readonly healthListeners: ((up: boolean) => void)[] = [];
  /** Writes of ours in flight, by key: their messages have not come back yet. */
  private readonly inFlight = new Map<string, number>();
  private seen: readonly string[];
  /** A command failed (timeout, error) since the last one that answered. */
  private failing = false;
  private up = false;
  private closed = false;

  constructor(private readonly options: RedisTransportOptions) {
    made++;
    this.instance = (options.instance ?? `${hostname()}-${process.pid}${made > 1 ? `-${made}` : ""}`).replace(/\n/g, " ");
    this.seen = [this.instance];
    this.channel = `${options.prefix}state-changes`;
    this.statePrefix = `${options.prefix}state:`;
    this.instancePrefix = `${options.prefix}instances:`;
    this.instanceTtlMs = options.instanceTtlMs ?? DEFAULT_INSTANCE_TTL_MS;
    this.cmd = helperRedis(options.url, options.timeoutMs);
    this.cmd.on("error", this.check);
    this.cmd.on("close", this.check);
    this.cmd.on("end", this.check);
    this.cmd.on("ready", this.onCmdReady);
    this.sub = new RedisSubscriber(options.url, options.timeoutMs, this.channel, this.onMessage, this.check);
    this.timer = setInterval(this.refresh, options.refreshMs ?? DEFAULT_REFRESH_MS);
    this.timer.unref();
  }

  get healthy(): boolean {
    return this.up;
  }

  publish(key: string, json: string | null): void {
    if (this.closed || this.cmd.status !== "ready") return;
    const k = this.statePrefix + key;
    const m = this.cmd.multi();
    if (json === null) m.del(k);
    else m.set(k, json);
    m.publish(this.channel, `${this.instance}\n${key}\n${json ?? ""}`);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    m.exec().then(this.answered, this.failed);
  }

  async snapshot(): Promise<Map<string, string>> {
    if (this.cmd.status !== "ready") throw new Error("redis is not connected");
    const out = new Map<string, string>();
    const pattern = `${globEscape(this.statePrefix)}*`;
    let cursor = "0";
    try {
      do {
        const [next, keys] = await this.cmd.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
        cursor = next;
        if (keys.length === 0) continue;
        const values = await this.cmd.mget(...keys);
        keys.forEach((k, i) => {
          const v = values[i];
          if (v !== null && v !== undefined) out.set(k.slice(this.statePrefix.length), v);
        });
      } while (cursor !== "0");
    } catch (err) {
      this.failed();
      throw err;
    }
    this.answered();
    return out;
  }

  onChange(listener: (key: string, json: string | null) => void): void {
    this.changeListeners.push(listener);
  }

  onHealth(listener: (up: boolean) => void): void {
    this.healthListeners.push(listener);
  }

  instances(): readonly string[] {
    return this.seen;
  }

  /** Leaves the registry (best effort) and closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.cmd.status === "ready") await this.cmd.del(this.instancePrefix + this.instance).catch(() => undefined);
    await Promise.all([quitRedis(this.cmd), this.sub.close()]);
  }

  private readonly onCmdReady = (): void => {
    this.failing = false;
    this.refresh();
    this.check();
  };

  private readonly onMessage = (_channel: string, message: string): void => {
    const a = message.indexOf("\n");
    const b = message.lastIndexOf("\n");
    if (a < 0 || b === a) return;
    const key = message.slice(a + 1, b);
    const pending = this.inFlight.get(key);
    if (message.slice(0, a) === this.instance) {
      if (pending !== undefined) {
        if (pending > 1) this.inFlight.set(key, pending - 1);
        else this.inFlight.delete(key);
      }
      return;
    }
    if (pending !== undefined) return;
    const json = b + 1 === message.length ? null : message.slice(b + 1);
    const ls = this.changeListeners;
    for (let i = 0; i < ls.length; i++) ls[i]?.(key, json);
  };

  /** Refreshes this instance's entry in the registry and reads the live ones. */
  private readonly refresh = (): void => {
    if (this.closed || this.cmd.status !== "ready") return;
    this.cmd
      .set(this.instancePrefix + this.instance, String(Date.now()), "PX", this.instanceTtlMs)
      .then(() => this.listInstances())
      .then(this.answered, this.failed);
  };

  private async listInstances(): Promise<void> {
    const names = new Set<string>([this.instance]);
    const pattern = `${globEscape(this.instancePrefix)}*`;
    let cursor = "0";
    do {
      const [next, keys] = await this.cmd.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
      cursor = next;
      for (const k of keys) names.add(k.slice(this.instancePrefix.length));
    } while (cursor !== "0");
    this.seen = [...names].sort();
  }

  private readonly answered = (): void => {
    if (!this.failing) return;
    this.failing = false;
    this.check();
  };

  private readonly failed = (): void => {
    // Which writes were lost is unknown: their messages may never come, so none is waited for.
    this.inFlight.clear();
    if (this.failing) return;
    this.failing = true;
    this.check();
  };

  /** Tells the listeners when the link's health changed: both connections ready, subscribed, commands answering. */
  private readonly check = (): void => {
    if (this.closed) return;
    const up = this.cmd.status === "ready" && this.sub.ready && !this.failing;
    if (up === this.up) return;
    this.up = up;
    if (!up) this.inFlight.clear();
    const ls = this.healthListeners;
    for (let i = 0; i < ls.length; i++) ls[i]?.(up);
  };
}

/** A prefix taken literally in a SCAN MATCH pattern. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}
