import type BetterSqlite3 from "better-sqlite3";
import type { Database } from "./database.js";
import type { StateCell, StateOp, StateStore } from "./state-store.js";

/** How often changed cells are written, ms: a crash loses at most this much of the policies' state. */
const DEFAULT_FLUSH_MS = 1000;

const MIGRATION = `
CREATE TABLE state_cells (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID`;

export interface PersistentStoreOptions {
  /** Told of a failed write, once per run of failures (the changes are kept for the next flush). */
  onError?: (err: Error) => void;
  /** Told of a stored row that is not JSON: it is ignored, and its cell starts from its initial state. */
  onUnreadable?: (key: string, err: Error) => void;
  /** Runs once at close, after the last changes are written: whoever shares the database writes its own last rows. */
  onClose?: () => void | Promise<void>;
  flushMs?: number;
  /** The clock for `updated_at`, epoch ms (tests move it). */
  now?: () => number;
}

class PersistentCell<S> implements StateCell<S> {
  /** The initial state as JSON, once a policy asked for the cell: a state equal to it needs no row. */
  initial: string | undefined = undefined;
  constructor(
    readonly key: string,
    public value: S,
  ) {}
}

/**
 * The policies' state kept in memory exactly as MemoryStore keeps it (a read is a field read), and
 * written behind to the store's SQLite file so it survives a restart:
 *
 *   open ── every row of state_cells ──► cells        a breaker open at shutdown is open, until the same time
 *   apply ── state changed ──► dirty                  no SQLite on the request path
 *   every flushMs, and at close ── dirty ──► one transaction of UPSERTs (DELETE when back to the initial state)
 *   forgetTarget ──► its rows deleted at once
 *
 * A failed write (disk full, locked) rolls back whole; the cells stay dirty and a later flush
 * writes them. States are epoch-ms plain JSON, so they mean the same after a restart. The
 * Database is the caller's: close() writes and stops, `onClose` may close it.
 */
export class PersistentStore implements StateStore {
  private readonly cells = new Map<string, PersistentCell<unknown>>();
  private readonly dirty = new Set<PersistentCell<unknown>>();
  /** Keys whose rows must go (forgotten targets), written with the next flush. */
  private readonly deleted = new Set<string>();
  /** Keys of rows that could not be read: no cell, but forgetTarget deletes them too. */
  private readonly unreadable = new Set<string>();
  private readonly onError: ((err: Error) => void) | undefined;
  private readonly onClose: (() => void | Promise<void>) | undefined;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private readonly write: BetterSqlite3.Transaction<(now: number) => void>;
  private failing = false;
  private closed = false;

  constructor(
    private readonly db: Database,
    options: PersistentStoreOptions = {},
  ) {
    this.onError = options.onError;
    this.onClose = options.onClose;
    this.now = options.now ?? Date.now;
    db.migrate("state/001-cells", MIGRATION);
    const h = db.handle;
    const upsert = h.prepare(
      "INSERT INTO state_cells (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    );
    const remove = h.prepare("DELETE FROM state_cells WHERE key = ?");
    this.write = h.transaction((now: number) => {
      for (const key of this.deleted) remove.run(key);
      for (const c of this.dirty) {
        // A cell of a forgotten target, still held by a retiring generation's policy: not written back.
        if (this.cells.get(c.key) !== c) continue;
        const json = JSON.stringify(c.value);
        if (json === c.initial) remove.run(c.key);
        else upsert.run(c.key, json, now);
      }
    });
    for (const row of h.prepare("SELECT key, value FROM state_cells").iterate() as IterableIterator<{ key: string; value: string }>) {
      try {
        this.cells.set(row.key, new PersistentCell<unknown>(row.key, JSON.parse(row.value)));
      } catch (err) {
        this.unreadable.add(row.key);
        options.onUnreadable?.(row.key, err as Error);
      }
    }
    this.timer = setInterval(() => this.flush(), options.flushMs ?? DEFAULT_FLUSH_MS);
    this.timer.unref();
  }

  /** The stored state when there is one (the state before the restart), else `initial`. */
  cell<S>(key: string, initial: S): StateCell<S> {
    let c = this.cells.get(key) as PersistentCell<S> | undefined;
    if (c === undefined) this.cells.set(key, (c = new PersistentCell<S>(key, initial)));
    if (c.initial === undefined) c.initial = JSON.stringify(initial);
    return c;
  }

  apply<S, A>(cell: StateCell<S>, op: StateOp<S, A>, arg: A, now: number): S {
    const c = cell as PersistentCell<S>;
    const next = op.run(c.value, arg, now);
    if (next !== c.value) {
      c.value = next;
      this.dirty.add(c);
    }
    return next;
  }

  forgetTarget(route: string, target: string): void {
    const suffix = `/${route}/${target}`;
    const of = (key: string) => key.endsWith(suffix) && key.indexOf("/") === key.length - suffix.length;
    for (const [key, c] of this.cells)
      if (of(key)) {
        this.cells.delete(key);
        this.dirty.delete(c);
        this.deleted.add(key);
      }
    for (const key of this.unreadable)
      if (of(key)) {
        this.unreadable.delete(key);
        this.deleted.add(key);
      }
    if (this.deleted.size > 0) this.flush();
  }

  onRemoteChange(): void {
    // One process writes its own file: nothing else changes this process's state.
  }

  /** Writes the changed cells and forgotten keys in one transaction; a failure keeps them for the next try. Never throws. */
  flush(): void {
    if ((this.dirty.size === 0 && this.deleted.size === 0) || !this.db.isOpen) return;
    try {
      this.write(this.now());
      this.dirty.clear();
      this.deleted.clear();
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.onError?.(err as Error);
      this.failing = true;
    }
  }

  /** Keys with a cell now, stored or asked for (tests, diagnostics). */
  keys(): string[] {
    return [...this.cells.keys()];
  }

  /** Every key and its state (tests, diagnostics). */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.cells].map(([k, c]) => [k, c.value]));
  }

  /** Writes what changed and stops writing; cells keep answering reads (calls still finishing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    await this.onClose?.();
  }
}
