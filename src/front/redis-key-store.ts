import type { Redis } from "ioredis";
import { GatewayError } from "../errors.js";
import { helperRedis, quitRedis, RedisSubscriber } from "../state/redis-client.js";
import type { KeyStore, KeyStoreLike, StoredKey } from "./key-store.js";

export interface RedisKeyStoreOptions {
  url: string;
  /** The hash and the channel start with it: instances with the same prefix share their keys. */
  prefix: string;
  /** A Redis call slower than this counts as failed. */
  timeoutMs: number;
  /**
   * This instance's own copy (its SQLite store): the keys it starts with, before Redis answers,
   * and written again after each load from Redis, so a restart while Redis is down still knows them.
   */
  cache?: KeyStore | undefined;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/**
 * Writes a key and tells every instance, in one step (so no instance misses a change it could
 * read): made only if the name is free (HSETNX: the first of two instances making one name wins),
 * changed only if it still exists (a change racing a delete does not bring the key back).
 * KEYS[1] the hash; ARGV: op, name, json, channel. Returns 1 when the hash changed.
 */
const WRITE = `
local op, name = ARGV[1], ARGV[2]
local done = 0
if op == 'insert' then
  done = redis.call('HSETNX', KEYS[1], name, ARGV[3])
elseif op == 'update' then
  done = redis.call('HEXISTS', KEYS[1], name)
  if done == 1 then redis.call('HSET', KEYS[1], name, ARGV[3]) end
else
  done = redis.call('HDEL', KEYS[1], name)
end
redis.call('PUBLISH', ARGV[4], name)
return done`;

/**
 * The client keys made through the admin API, shared by every instance of a gateway through one
 * Redis (config.shared): each key (everything but its secret: name, SHA-256, masked display,
 * settings, created_at) is a field of the hash `<prefix>client-keys`, its value the key as JSON.
 *
 *   insert/update/delete ── EVAL WRITE: HSETNX|HSET|HDEL <prefix>client-keys
 *                                       PUBLISH <prefix>client-keys-changed <name>
 *   subscriber ── any message ──► HGETALL <prefix>client-keys ──► onChange(list) ──► registry.reload
 *   connected again ──► HGETALL (the changes missed while away)
 *
 * Requests never touch Redis: the registry answers them from its maps, rebuilt on each new list.
 * The instance's own write updates its registry at once (the registry does it), the others within
 * a message's round trip. Reads are coalesced: one HGETALL at a time, one more if a message came
 * meanwhile; a list read while a write of ours is in flight is not applied (it may lack the write),
 * the one after the write is.
 *
 * While Redis does not answer, the instance keeps serving the keys it knows (logged once), and a
 * change through the admin API is refused (503 shared_store_unavailable) rather than kept here
 * alone, where the next load from Redis would silently undo it. Until the first load it starts
 * with its cache's keys (the list of the last time it could read Redis), none without a cache.
 */
export class RedisKeyStore implements KeyStoreLike {
  private readonly cmd: Redis;
  private readonly sub: RedisSubscriber;
  private readonly hash: string;
  private readonly channel: string;
  private list: StoredKey[];
  private listener: ((stored: readonly StoredKey[]) => void) | undefined = undefined;
  /** The hash's values as last applied, joined: a load that finds the same changes nothing. */
  private signature: string | undefined = undefined;
  private loading = false;
  /** A change was announced (or a write ended) while a load was in flight: load again after it. */
  private dirty = false;
  private pendingWrites = 0;
  private loadedOnce = false;
  private up = false;
  /** The outage is logged (once, until Redis answers again). */
  private warned = false;
  private closed = false;

  constructor(private readonly options: RedisKeyStoreOptions) {
    this.hash = `${options.prefix}client-keys`;
    this.channel = `${options.prefix}client-keys-changed`;
    this.list = options.cache?.all() ?? [];
    this.cmd = helperRedis(options.url, options.timeoutMs);
    this.cmd.on("error", this.onError);
    this.cmd.on("ready", this.check);
    this.cmd.on("close", this.check);
    this.cmd.on("end", this.check);
    this.sub = new RedisSubscriber(options.url, options.timeoutMs, this.channel, this.reload, this.check, this.onError);
  }

  /** Whether the hash was read once (until then the gateway is closed to all but config keys: fail closed). */
  get ready(): boolean {
    return this.loadedOnce;
  }

  /** Both connections up and subscribed, and the hash read once: changes may be made. */
  get healthy(): boolean {
    return this.up && this.loadedOnce;
  }

  /** Called with the whole list each time a load from Redis finds it changed (another instance's change, a reconnect). */
  onChange(listener: (stored: readonly StoredKey[]) => void): void {
    this.listener = listener;
  }

  all(): StoredKey[] {
    return [...this.list];
  }

  insert(k: StoredKey): void {
    this.write("insert", k.name, JSON.stringify(k), "made");
  }

  update(k: StoredKey): boolean {
    this.write("update", k.name, JSON.stringify(k), "changed");
    return true;
  }

  delete(name: string): boolean {
    this.write("delete", name, "", "deleted");
    return true;
  }

  /** Closes both connections and the cache. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([quitRedis(this.cmd), this.sub.close()]);
    this.options.cache?.close();
  }

  /** Sends one change; refused (503) when it could not reach every instance now. */
  private write(op: "insert" | "update" | "delete", name: string, json: string, verb: string): void {
    if (this.closed || !this.healthy || this.cmd.status !== "ready")
      throw new GatewayError(
        "shared_store_unavailable",
        `client keys are shared through Redis, which does not answer now: the key "${name}" was not ${verb}; retry once it answers`,
      );
    this.pendingWrites++;
    this.cmd.eval(WRITE, 1, this.hash, op, name, json, this.channel).then(this.written, this.writeFailed);
  }

  private readonly written = (): void => {
    this.pendingWrites--;
    if (this.pendingWrites === 0 && this.dirty) this.reload();
  };

  private readonly writeFailed = (err: unknown): void => {
    // The change may or may not be in Redis: read the hash again (now, or when Redis is back), it is the truth.
    this.options.log.warn(
      { err, prefix: this.options.prefix },
      "client keys: a change could not be confirmed by Redis; reading the keys again",
    );
    this.dirty = true;
    this.written();
  };

  /** Reads the whole hash (one read at a time; one more after it when a change came meanwhile). */
  private readonly reload = (): void => {
    if (this.closed || this.cmd.status !== "ready") return;
    if (this.loading || this.pendingWrites > 0) {
      this.dirty = true;
      return;
    }
    this.loading = true;
    this.dirty = false;
    this.cmd.hgetall(this.hash).then(this.loaded, this.loadFailed);
  };

  private readonly loaded = (fields: Record<string, string>): void => {
    this.loading = false;
    if (this.closed) return;
    if (this.dirty || this.pendingWrites > 0) {
      // Read before a change (ours in flight, or announced since): the next read has it.
      this.dirty = true;
      if (this.pendingWrites === 0) this.reload();
      return;
    }
    this.loadedOnce = true;
    const values = Object.values(fields).sort();
    const signature = values.join("\n");
    if (signature === this.signature) return;
    this.signature = signature;
    const list: StoredKey[] = [];
    for (const v of values) {
      const k = parseKey(v);
      if (k !== undefined) list.push(k);
    }
    list.sort(byCreation);
    this.list = list;
    this.mirror(list);
    this.listener?.(list);
  };

  private readonly loadFailed = (err: unknown): void => {
    this.loading = false;
    this.dirty = true;
    if (!this.warned) this.outage(err);
  };

  /** Writes the list into the cache, so a restart without Redis starts from it. */
  private mirror(list: readonly StoredKey[]): void {
    const cache = this.options.cache;
    if (cache === undefined) return;
    try {
      const old = new Map(cache.all().map((k) => [k.name, k]));
      for (const k of list) {
        const had = old.get(k.name);
        old.delete(k.name);
        if (had !== undefined && had.sha256 === k.sha256 && had.created_at === k.created_at) cache.update(k);
        else {
          if (had !== undefined) cache.delete(k.name);
          cache.insert(k);
        }
      }
      for (const name of old.keys()) cache.delete(name);
    } catch (err) {
      this.options.log.warn({ err, store: cache.path }, "client keys: the local copy of the shared keys could not be written");
    }
  }

  private readonly onError = (err: unknown): void => {
    if (!this.closed && !this.warned) this.outage(err);
    this.check();
  };

  private outage(err: unknown): void {
    this.warned = true;
    this.options.log.warn(
      { err, prefix: this.options.prefix },
      "client keys: Redis does not answer; serving the keys this instance knows, admin changes to keys refused (503) until it does",
    );
  }

  /** Notices the link going down or coming back; back: reads the hash (the changes missed meanwhile). */
  private readonly check = (): void => {
    if (this.closed) return;
    const up = this.cmd.status === "ready" && this.sub.ready;
    if (up === this.up) return;
    this.up = up;
    if (!up) {
      if (!this.warned) this.outage(undefined);
      return;
    }
    if (this.warned) {
      this.warned = false;
      this.options.log.info({ prefix: this.options.prefix }, "client keys: Redis answers again; reading the shared keys");
    }
    this.reload();
  };
}

/** A stored key read back, or undefined when the value is not one (written by something else). */
function parseKey(json: string): StoredKey | undefined {
  try {
    const k = JSON.parse(json) as Partial<StoredKey> | null;
    if (k === null || typeof k !== "object" || typeof k.name !== "string" || typeof k.sha256 !== "string") return undefined;
    return {
      name: k.name,
      sha256: k.sha256,
      display: typeof k.display === "string" ? k.display : "****",
      routes: k.routes,
      models: k.models,
      limits: k.limits ?? {},
      budget: k.budget,
      priority: k.priority,
      expires_at: k.expires_at,
      disabled: k.disabled === true,
      metadata: k.metadata ?? {},
      created_at: typeof k.created_at === "number" ? k.created_at : 0,
    };
  } catch {
    return undefined;
  }
}

/** The SQLite store's order: oldest first, then by name. */
function byCreation(a: StoredKey, b: StoredKey): number {
  return a.created_at - b.created_at || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
