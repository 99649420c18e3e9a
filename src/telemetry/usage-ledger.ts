import type BetterSqlite3 from "better-sqlite3";
import type { Config } from "../config/schema.js";
import type { GatewayEvents, RequestRecord } from "../core/events.js";
import { GatewayError } from "../errors.js";
import type { Database } from "../state/database.js";
import { iso, parseGroupBy, parseTime, type UsageAnswer, type UsageDimension, type UsageQuery, type UsageSums } from "./usage-query.js";

export { USAGE_DIMENSIONS, type UsageAnswer, type UsageDimension, type UsageQuery, type UsageRow, type UsageSums } from "./usage-query.js";

export type UsageConfig = Config["usage"];

export interface UsageLedgerOptions {
  /** Told of a failed write or prune (the rows stay for the next flush); never throws into a request. */
  onError: (err: Error) => void;
  /** The clock, epoch ms (tests move it). */
  now?: () => number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Distinct (route, model) pairs taken per hour; beyond, a pair's model is counted as "other". */
const MAX_MODELS_PER_HOUR = 1000;
/** Rows held in memory at most (reached only while writes fail): beyond, new rows are dropped and counted. */
const MAX_PENDING_ROWS = 50_000;
/** A model name is a client's string: longer ones are cut to this. */
const MAX_MODEL_CHARS = 200;
const NANOS_PER_USD = 1e9;
const SEP = "\u0000";

const MIGRATION = `
CREATE TABLE usage_hourly (
  hour INTEGER NOT NULL,
  route TEXT NOT NULL,
  target TEXT NOT NULL,
  model TEXT NOT NULL,
  client_key TEXT NOT NULL,
  requests INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cost_nanos INTEGER NOT NULL,
  PRIMARY KEY (hour, route, target, model, client_key)
) WITHOUT ROWID`;

const UPSERT = `
INSERT INTO usage_hourly (hour, route, target, model, client_key, requests, errors, input_tokens, output_tokens, cached_input_tokens, cost_nanos, cache_write_tokens)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (hour, route, target, model, client_key) DO UPDATE SET
  requests = requests + excluded.requests,
  errors = errors + excluded.errors,
  input_tokens = input_tokens + excluded.input_tokens,
  output_tokens = output_tokens + excluded.output_tokens,
  cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens,
  cost_nanos = cost_nanos + excluded.cost_nanos,
  cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens`;

/** Cache writes (Anthropic's cache_creation_input_tokens), counted apart since 2026-12. */
const MIGRATION_CACHE_WRITES = "ALTER TABLE usage_hourly ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0";

/** SQL for each dimension; fixed text, so a query is built from this list only, never from the client's words. */
const DIMENSION_SQL: Record<UsageDimension, string> = {
  route: "route",
  target: "target",
  model: "model",
  client_key: "client_key",
  hour: "hour",
  day: `(hour / ${DAY_MS}) * ${DAY_MS}`,
};

/** One hour × route × target × model × client key, gathered since the last flush. */
class PendingRow {
  requests = 0;
  errors = 0;
  inputTokens = 0;
  outputTokens = 0;
  cachedInputTokens = 0;
  cacheWriteTokens = 0;
  costNanos = 0;
  constructor(
    readonly hour: number,
    readonly route: string,
    readonly target: string,
    readonly model: string,
    readonly clientKey: string,
  ) {}
}

/** The summed columns of `usage_hourly`: the one list the query, its totals and its answer follow. */
const SUM_COLUMNS = [
  "requests",
  "errors",
  "input_tokens",
  "output_tokens",
  "cached_input_tokens",
  "cache_write_tokens",
  "cost_nanos",
] as const;
type SumColumns = Record<(typeof SUM_COLUMNS)[number], number>;

/**
 * Requests, errors, tokens and cost per UTC hour × route × target × model × client key, in the
 * store's `usage_hourly` table, for `GET /admin/usage`.
 *
 * A served request only adds to a row in memory (no SQLite on the request path); every `flush_ms`
 * the rows are written in one transaction of UPSERTs that add to what the table holds, so a failed
 * write (disk full, locked) rolls back whole and its rows are kept, added to, and written by a later
 * flush without counting anything twice.
 *
 * Cost is kept as integer nano-dollars (`cost_nanos`): integer sums are exact whatever the order and
 * number of additions (in memory, in the UPSERT, in SUM), so totals match to the cent and beyond. The
 * only rounding is each request's cost to 1e-9 USD, ten times finer than one token at the cheapest
 * listed price; 64-bit integers hold 9.2 billion USD per row. Answers show USD rounded to 6 decimals.
 *
 * Model names are clients' strings: cut to 200 characters, and once an hour has seen 1,000 distinct
 * (route, model) pairs, further new pairs count as model "other" — a bound on both memory and on the
 * rows an hour can add to the table.
 */
export class UsageLedger {
  private readonly now: () => number;
  private readonly onError: (err: Error) => void;
  private readonly pending = new Map<string, PendingRow>();
  /** By target id, the row its last request went to (cleared whenever the pending rows are). */
  private readonly recent = new Map<string, PendingRow>();
  /** Per route, the models taken this hour (reset when the hour turns). */
  private readonly models = new Map<string, Set<string>>();
  private modelCount = 0;
  private dropped = 0;
  private hour = -1;
  private hourEnd = -1;
  private hourPrefix = "";
  private nextPruneAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly upsert: BetterSqlite3.Statement;
  private readonly prune: BetterSqlite3.Statement;
  private readonly writeAll: BetterSqlite3.Transaction<(rows: Iterable<PendingRow>) => void>;
  /** Prepared once per group_by list asked for (at most a few dozen). */
  private readonly queries = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: Database,
    private readonly config: UsageConfig,
    options: UsageLedgerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.onError = options.onError;
    db.migrate("usage/001-hourly", MIGRATION);
    db.migrate("usage/002-cache-writes", MIGRATION_CACHE_WRITES);
    const h = db.handle;
    this.upsert = h.prepare(UPSERT);
    this.prune = h.prepare("DELETE FROM usage_hourly WHERE hour < ?");
    this.writeAll = h.transaction((rows: Iterable<PendingRow>) => {
      for (const r of rows)
        this.upsert.run(
          r.hour,
          r.route,
          r.target,
          r.model,
          r.clientKey,
          r.requests,
          r.errors,
          r.inputTokens,
          r.outputTokens,
          r.cachedInputTokens,
          r.costNanos,
          r.cacheWriteTokens,
        );
    });
    this.pruneOld();
  }

  /** Subscribes to served requests and starts the flush timer (nothing when `enabled` is false). */
  attach(events: GatewayEvents): void {
    if (!this.config.enabled || this.closed || this.timer !== undefined) return;
    events.onRequest((record) => this.record(record));
    this.timer = setInterval(() => this.tick(), this.config.flush_ms);
    this.timer.unref();
  }

  /** Adds one served request to its row in memory. */
  record(record: RequestRecord): void {
    const route = record.route;
    if (route === null || this.closed) return;
    const now = this.now();
    if (now >= this.hourEnd || now < this.hour) this.turnHour(now);
    const target = record.target ?? "";
    const asked = record.upstreamModel || record.model;
    // Most requests land in the row their target's previous one did: compare before building a key.
    const client = record.clientKey;
    let row = this.recent.get(target);
    if (row === undefined || row.hour !== this.hour || row.route !== route || row.model !== asked || row.clientKey !== client) {
      row = this.rowFor(route, target, this.admitModel(route, asked), client);
      if (row === undefined) return;
      this.recent.set(target, row);
    }
    row.requests++;
    if (record.errorCode !== null || record.status >= 500) row.errors++;
    const usage = record.usage;
    if (usage !== null) {
      row.inputTokens += usage.prompt_tokens || 0;
      row.outputTokens += usage.completion_tokens || 0;
      row.cachedInputTokens += usage.prompt_tokens_details?.cached_tokens || 0;
      row.cacheWriteTokens += usage.prompt_tokens_details?.cache_creation_tokens || 0;
    }
    if (record.costUsd > 0) row.costNanos += Math.round(record.costUsd * NANOS_PER_USD);
  }

  /** The pending row of this hour, route, target and model; undefined (and counted as dropped) when too many wait. */
  private rowFor(route: string, target: string, model: string, clientKey: string): PendingRow | undefined {
    const key = this.hourPrefix + route + SEP + target + SEP + model + SEP + clientKey;
    let row = this.pending.get(key);
    if (row === undefined) {
      if (this.pending.size >= MAX_PENDING_ROWS) {
        this.dropped++;
        return;
      }
      row = new PendingRow(this.hour, route, target, model, clientKey);
      this.pending.set(key, row);
    }
    return row;
  }

  /** Writes the gathered rows in one transaction; false (and `onError` told) when that failed and they were kept. */
  flush(): boolean {
    if (this.dropped > 0) {
      this.report(new Error(`usage ledger: ${this.dropped} requests not counted: ${MAX_PENDING_ROWS} rows already waiting to be written`));
      this.dropped = 0;
    }
    if (this.pending.size === 0) return true;
    try {
      this.writeAll(this.pending.values());
    } catch (err) {
      const n = this.pending.size;
      this.report(
        new Error(`usage ledger: writing ${n} row${n === 1 ? "" : "s"} failed; kept for the next flush: ${messageOf(err)}`, { cause: err }),
      );
      return false;
    }
    this.pending.clear();
    this.recent.clear();
    return true;
  }

  /** Sums over [from, to) grouped by `group_by`, rows still in memory included; bad parameters: GatewayError invalid_request. */
  query(params: UsageQuery = {}): UsageAnswer {
    const groupBy = parseGroupBy(params.group_by);
    const to = params.to === undefined || params.to === "" ? this.now() : parseTime(params.to, "to");
    const from = params.from === undefined || params.from === "" ? to - DAY_MS : parseTime(params.from, "from");
    if (from > to) throw new GatewayError("invalid_request", `from (${iso(from)}) is after to (${iso(to)})`, { param: "from" });
    const fromHour = Math.floor(from / HOUR_MS) * HOUR_MS;
    const toHour = Math.ceil(to / HOUR_MS) * HOUR_MS;
    this.flush();
    const raw = this.statementFor(groupBy).all(fromHour, toHour) as (SumColumns & Record<string, string | number>)[];
    const totals = Object.fromEntries(SUM_COLUMNS.map((c) => [c, 0])) as SumColumns;
    const rows = raw.map((r) => {
      const row: Partial<Record<UsageDimension, string>> = {};
      for (const d of groupBy) {
        const v = r[d];
        row[d] = d === "hour" ? iso(Number(v)) : d === "day" ? iso(Number(v)).slice(0, 10) : String(v);
      }
      for (const c of SUM_COLUMNS) totals[c] += r[c];
      return { ...row, ...sums(r) };
    });
    return { from: iso(fromHour), to: iso(toHour), group_by: groupBy, rows, totals: sums(totals) };
  }

  /** Writes what is gathered and stops the timer; the database stays open (its owner closes it). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    this.closed = true;
  }

  /** Hands a failure to `onError`; a throwing callback must not take down the timer's turn. */
  private report(err: Error): void {
    try {
      this.onError(err);
    } catch {
      // the callback's own failure has nowhere better to go
    }
  }

  private tick(): void {
    this.flush();
    if (this.now() >= this.nextPruneAt) this.pruneOld();
  }

  /** Deletes hours older than `retention_days` before the current hour; again in an hour. */
  private pruneOld(): void {
    const now = this.now();
    this.nextPruneAt = now + HOUR_MS;
    try {
      this.prune.run(Math.floor(now / HOUR_MS) * HOUR_MS - this.config.retention_days * DAY_MS);
    } catch (err) {
      this.report(new Error(`usage ledger: deleting rows past retention failed: ${messageOf(err)}`, { cause: err }));
    }
  }

  private turnHour(now: number): void {
    this.hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    this.hourEnd = this.hour + HOUR_MS;
    this.hourPrefix = String(this.hour) + SEP;
    this.models.clear();
    this.modelCount = 0;
  }

  /** The model as counted: bounded in length, and "other" once the hour holds enough distinct pairs. */
  private admitModel(route: string, model: string): string {
    if (model.length > MAX_MODEL_CHARS) model = model.slice(0, MAX_MODEL_CHARS);
    let seen = this.models.get(route);
    if (seen === undefined) this.models.set(route, (seen = new Set()));
    if (seen.has(model)) return model;
    if (this.modelCount >= MAX_MODELS_PER_HOUR) return "other";
    seen.add(model);
    this.modelCount++;
    return model;
  }

  private statementFor(groupBy: readonly UsageDimension[]): BetterSqlite3.Statement {
    const cacheKey = groupBy.join(",");
    let stmt = this.queries.get(cacheKey);
    if (stmt === undefined) {
      const dims = groupBy.map((d) => `${DIMENSION_SQL[d]} AS ${d}`);
      const sumCols = SUM_COLUMNS.map((c) => `SUM(${c}) AS ${c}`);
      const grouping = groupBy.length > 0 ? ` GROUP BY ${groupBy.join(", ")} ORDER BY ${groupBy.join(", ")}` : "";
      const sql = `SELECT ${[...dims, ...sumCols].join(", ")} FROM usage_hourly WHERE hour >= ? AND hour < ?${grouping}`;
      stmt = this.db.handle.prepare(sql);
      this.queries.set(cacheKey, stmt);
    }
    return stmt;
  }
}

function sums(s: SumColumns): UsageSums {
  return {
    requests: s.requests,
    errors: s.errors,
    input_tokens: s.input_tokens,
    output_tokens: s.output_tokens,
    cached_input_tokens: s.cached_input_tokens,
    cache_write_tokens: s.cache_write_tokens,
    cost_usd: Math.round(s.cost_nanos / 1000) / 1e6,
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
