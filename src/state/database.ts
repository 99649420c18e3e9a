import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";

/** How long a writer waits for another connection's lock before SQLITE_BUSY, ms. */
const BUSY_TIMEOUT_MS = 5000;

/** The store's file cannot be opened or used: `path` names it, `reason` says why (SQLite's words). */
export class StoreOpenError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot open the store "${path}": ${reason}`, options);
    this.name = "StoreOpenError";
  }
}

/**
 * The one SQLite file the gateway keeps what must survive a restart in (usage, and later client
 * keys and persisted breaker state). Each feature brings its own schema as named migrations:
 *
 *   db.migrate("usage/001-hourly", "CREATE TABLE …")   applied once, recorded in schema_migrations
 *
 * Names are per feature (`<feature>/<nnn>-<what>`) so features number their steps without
 * coordinating; a feature calls its migrations in order at setup, and one already recorded is
 * skipped. File databases run in WAL with synchronous=NORMAL: readers never block the writer, and
 * a commit costs no fsync (a power cut may lose the last commits, never corrupt the file).
 */
export class Database {
  /** The better-sqlite3 connection, for the features' own statements (prepare them once, at setup). */
  readonly handle: BetterSqlite3.Database;

  private constructor(
    readonly path: string,
    handle: BetterSqlite3.Database,
  ) {
    this.handle = handle;
  }

  /** Opens (creating it and its folder if needed) the file at `path`; ":memory:" or undefined: a private in-memory one. */
  static open(path: string = ":memory:"): Database {
    const memory = path === ":memory:";
    let handle: BetterSqlite3.Database | undefined;
    try {
      if (!memory) mkdirSync(dirname(path), { recursive: true });
      handle = new BetterSqlite3(path);
      // The first statement reads the header: a file that is not a database fails here, not later.
      if (!memory) {
        handle.pragma("journal_mode = WAL");
        handle.pragma("synchronous = NORMAL");
        handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
      handle.exec("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
    } catch (err) {
      handle?.close();
      throw new StoreOpenError(path, reasonOf(err), { cause: err });
    }
    return new Database(path, handle);
  }

  /** Runs `sql` and records `name`, in one transaction, unless `name` was applied before; true when it ran now. */
  migrate(name: string, sql: string): boolean {
    const db = this.handle;
    return db
      .transaction(() => {
        if (db.prepare("SELECT 1 FROM schema_migrations WHERE name = ?").get(name) !== undefined) return false;
        db.exec(sql);
        db.prepare("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)").run(name, Date.now());
        return true;
      })
      .immediate();
  }

  /** Names of the migrations applied, oldest first. */
  migrations(): string[] {
    const rows = this.handle.prepare("SELECT name FROM schema_migrations ORDER BY applied_at, rowid").all() as { name: string }[];
    return rows.map((r) => r.name);
  }

  get isOpen(): boolean {
    return this.handle.open;
  }

  /** Closes the connection (a WAL file is checkpointed into the database). Closing twice is harmless. */
  close(): void {
    if (this.handle.open) this.handle.close();
  }
}

function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? `${err.message} (${code})` : err.message;
}
