import type BetterSqlite3 from "better-sqlite3";
import type { ClientKeyConfig, InboundLimits } from "../config/access-schema.js";
import { Database } from "../state/database.js";

/**
 * A client key made through the admin API, as the store keeps it: everything but the secret,
 * of which only the SHA-256 (to recognise it) and the last 4 characters (to show it) are kept.
 */
export interface StoredKey {
  readonly name: string;
  /** SHA-256 of the secret, lower-case hex. Never shown. */
  readonly sha256: string;
  /** The secret masked to its last 4 characters ("****abcd"). */
  readonly display: string;
  readonly routes: readonly string[] | undefined;
  readonly models: readonly string[] | undefined;
  readonly limits: InboundLimits;
  readonly budget: ClientKeyConfig["budget"];
  readonly priority: ClientKeyConfig["priority"];
  /** ISO date-time after which the key is refused. */
  readonly expires_at: string | undefined;
  readonly disabled: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly created_at: number;
}

const MIGRATION = `
CREATE TABLE client_keys (
  name TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  display TEXT NOT NULL,
  routes TEXT,
  models TEXT,
  limits TEXT NOT NULL,
  budget TEXT,
  priority TEXT,
  expires_at TEXT,
  disabled INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL
)`;

const COLUMNS = "name, sha256, display, routes, models, limits, budget, priority, expires_at, disabled, metadata, created_at";

interface Row {
  name: string;
  sha256: string;
  display: string;
  routes: string | null;
  models: string | null;
  limits: string;
  budget: string | null;
  priority: string | null;
  expires_at: string | null;
  disabled: number;
  metadata: string;
  created_at: number;
}

/** What the store tells of its own trouble (a file it could not open). */
export interface KeyStoreLogger {
  error(obj: object, msg: string): void;
}

/**
 * What the client key registry needs of a store of API keys: this process's SQLite (KeyStore) or
 * the Redis hash every instance of a shared gateway reads (RedisKeyStore). Writes are synchronous
 * calls; a store that cannot take one now throws a GatewayError (the admin API answers it).
 */
export interface KeyStoreLike {
  /** Every stored key, oldest first. */
  all(): StoredKey[];
  /** Adds a key; throws when it cannot be kept. */
  insert(k: StoredKey): void;
  /** Writes a key's settings; false when no key has that name. */
  update(k: StoredKey): boolean;
  /** Removes a key; false when no key has that name. */
  delete(name: string): boolean;
  close(): void | Promise<void>;
  /**
   * false while the store has not read its keys yet (a shared store before its first answer from
   * Redis): the gateway then refuses every request without a config key rather than let anyone
   * in who might hold a key it does not know yet. Absent: always ready.
   */
  readonly ready?: boolean;
}

/**
 * The client keys made at run time, in the gateway's SQLite store (`store.path`), so they
 * outlive a restart; the config's keys are never written here (the file is their truth). Lists
 * and arrays are JSON columns: the table is read whole at start and after each change, never
 * per request.
 */
export class KeyStore implements KeyStoreLike {
  private readonly selectAll: BetterSqlite3.Statement<[], Row>;
  private readonly insertOne: BetterSqlite3.Statement<unknown[]>;
  private readonly updateOne: BetterSqlite3.Statement<unknown[]>;
  private readonly deleteOne: BetterSqlite3.Statement<[string]>;

  constructor(private readonly db: Database) {
    db.migrate("keys/001-client-keys", MIGRATION);
    const h = db.handle;
    this.selectAll = h.prepare(`SELECT ${COLUMNS} FROM client_keys ORDER BY created_at, name`);
    this.insertOne = h.prepare(`INSERT INTO client_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.updateOne = h.prepare(
      "UPDATE client_keys SET routes = ?, models = ?, limits = ?, budget = ?, priority = ?, expires_at = ?, disabled = ?, metadata = ? WHERE name = ?",
    );
    this.deleteOne = h.prepare("DELETE FROM client_keys WHERE name = ?");
  }

  /**
   * The store at `path` (":memory:": kept for this process only); a file that cannot be opened
   * is logged and memory used: keys made now then last until a restart.
   */
  static open(path: string, log: KeyStoreLogger): KeyStore {
    if (path !== ":memory:")
      try {
        return new KeyStore(Database.open(path));
      } catch (err) {
        log.error(
          { err, store: path },
          "cannot open the store: client keys made through the admin API are kept in memory (lost at restart)",
        );
      }
    return new KeyStore(Database.open(":memory:"));
  }

  get path(): string {
    return this.db.path;
  }

  all(): StoredKey[] {
    return this.selectAll.all().map(fromRow);
  }

  /** Adds a key; throws (SQLITE_CONSTRAINT) when its name or hash is taken. */
  insert(k: StoredKey): void {
    this.insertOne.run(
      k.name,
      k.sha256,
      k.display,
      json(k.routes),
      json(k.models),
      JSON.stringify(k.limits),
      json(k.budget),
      k.priority ?? null,
      k.expires_at ?? null,
      k.disabled ? 1 : 0,
      JSON.stringify(k.metadata),
      k.created_at,
    );
  }

  /** Writes a key's settings (name, secret and creation time never change); false when no key has that name. */
  update(k: StoredKey): boolean {
    const r = this.updateOne.run(
      json(k.routes),
      json(k.models),
      JSON.stringify(k.limits),
      json(k.budget),
      k.priority ?? null,
      k.expires_at ?? null,
      k.disabled ? 1 : 0,
      JSON.stringify(k.metadata),
      k.name,
    );
    return r.changes > 0;
  }

  /** Removes a key; false when no key has that name. */
  delete(name: string): boolean {
    return this.deleteOne.run(name).changes > 0;
  }

  close(): void {
    this.db.close();
  }
}

function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

function fromRow(r: Row): StoredKey {
  return {
    name: r.name,
    sha256: r.sha256,
    display: r.display,
    routes: r.routes === null ? undefined : (JSON.parse(r.routes) as string[]),
    models: r.models === null ? undefined : (JSON.parse(r.models) as string[]),
    limits: JSON.parse(r.limits) as InboundLimits,
    budget: r.budget === null ? undefined : (JSON.parse(r.budget) as StoredKey["budget"]),
    priority: (r.priority ?? undefined) as StoredKey["priority"],
    expires_at: r.expires_at ?? undefined,
    disabled: r.disabled !== 0,
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    created_at: r.created_at,
  };
}
