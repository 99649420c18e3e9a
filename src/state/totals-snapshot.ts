import type BetterSqlite3 from "better-sqlite3";
import type { Database } from "./database.js";

/** One target's counters as saved: what /admin/status shows of it, but what is in flight and the time windows. */
export interface TargetTotals {
  readonly route: string;
  readonly target: string;
  /** Its base URL when saved: a target re-pointed since is another upstream and starts from zero. */
  readonly baseUrl: string;
  readonly requests: number;
  readonly successes: number;
  readonly failures: number;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly latencyEwmaMs: number;
  readonly lastLatencyMs: number;
  /** Epoch ms; 0 = never. */
  readonly lastUsedAt: number;
  readonly lastOutcome: string;
  readonly lastFailureAt: number;
  readonly lastFailureDetail: string;
}

export interface RouteTotals {
  readonly route: string;
  readonly requests: number;
}

/** The gateway's counters, its routes' and its targets'. */
export interface Totals {
  readonly requests: number;
  readonly errors: number;
  readonly routes: readonly RouteTotals[];
  readonly targets: readonly TargetTotals[];
}

const MIGRATION = `
CREATE TABLE state_gateway_totals (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  requests INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  saved_at INTEGER NOT NULL
);
CREATE TABLE state_route_totals (
  route TEXT PRIMARY KEY,
  requests INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE state_target_totals (
  route TEXT NOT NULL,
  target TEXT NOT NULL,
  base_url TEXT NOT NULL,
  requests INTEGER NOT NULL,
  successes INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  by_outcome TEXT NOT NULL,
  latency_ewma_ms REAL NOT NULL,
  last_latency_ms REAL NOT NULL,
  last_used_at INTEGER NOT NULL,
  last_outcome TEXT NOT NULL,
  last_failure_at INTEGER NOT NULL,
  last_failure_detail TEXT NOT NULL,
  PRIMARY KEY (route, target)
) WITHOUT ROWID`;

interface TargetRow {
  route: string;
  target: string;
  base_url: string;
  requests: number;
  successes: number;
  failures: number;
  by_outcome: string;
  latency_ewma_ms: number;
  last_latency_ms: number;
  last_used_at: number;
  last_outcome: string;
  last_failure_at: number;
  last_failure_detail: string;
}

const NONE: Totals = Object.freeze({ requests: 0, errors: 0, routes: [], targets: [] });

/**
 * The gateway's totals in the store's file, so a restart goes on counting where it stopped. A save
 * replaces the whole snapshot in one transaction (a few rows per target, every few seconds): what
 * is saved is exactly what was running, and a failed save leaves the previous one whole. Plain
 * numbers in and out: the caller reads them from the engine and puts them back.
 */
export class TotalsSnapshot {
  private readonly write: BetterSqlite3.Transaction<(totals: Totals, now: number) => void>;
  private readonly readGateway: BetterSqlite3.Statement;
  private readonly readRoutes: BetterSqlite3.Statement;
  private readonly readTargets: BetterSqlite3.Statement;
  /** The last snapshot written, as JSON: an unchanged one (an idle gateway) is not written again. */
  private last = "";

  constructor(db: Database) {
    db.migrate("state/002-totals", MIGRATION);
    const h = db.handle;
    const clear = ["state_gateway_totals", "state_route_totals", "state_target_totals"].map((t) => h.prepare(`DELETE FROM ${t}`));
    const gateway = h.prepare("INSERT INTO state_gateway_totals (id, requests, errors, saved_at) VALUES (1, ?, ?, ?)");
    const route = h.prepare("INSERT INTO state_route_totals (route, requests) VALUES (?, ?)");
    const target = h.prepare(
      `INSERT INTO state_target_totals (route, target, base_url, requests, successes, failures, by_outcome, latency_ewma_ms,
         last_latency_ms, last_used_at, last_outcome, last_failure_at, last_failure_detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.write = h.transaction((totals: Totals, now: number) => {
      for (const c of clear) c.run();
      gateway.run(totals.requests, totals.errors, now);
      for (const r of totals.routes) route.run(r.route, r.requests);
      for (const t of totals.targets)
        target.run(
          t.route,
          t.target,
          t.baseUrl,
          t.requests,
          t.successes,
          t.failures,
          JSON.stringify(t.byOutcome),
          t.latencyEwmaMs,
          t.lastLatencyMs,
          t.lastUsedAt,
          t.lastOutcome,
          t.lastFailureAt,
          t.lastFailureDetail,
        );
    });
    this.readGateway = h.prepare("SELECT requests, errors FROM state_gateway_totals WHERE id = 1");
    this.readRoutes = h.prepare("SELECT route, requests FROM state_route_totals");
    this.readTargets = h.prepare("SELECT * FROM state_target_totals");
  }

  /** The last snapshot saved (all zeros when none was). A target's unreadable outcome counts read as none. */
  load(): Totals {
    const g = this.readGateway.get() as { requests: number; errors: number } | undefined;
    if (g === undefined) return NONE;
    const routes = this.readRoutes.all() as RouteTotals[];
    const targets = (this.readTargets.all() as TargetRow[]).map((r): TargetTotals => ({
      route: r.route,
      target: r.target,
      baseUrl: r.base_url,
      requests: r.requests,
      successes: r.successes,
      failures: r.failures,
      byOutcome: outcomes(r.by_outcome),
      latencyEwmaMs: r.latency_ewma_ms,
      lastLatencyMs: r.last_latency_ms,
      lastUsedAt: r.last_used_at,
      lastOutcome: r.last_outcome,
      lastFailureAt: r.last_failure_at,
      lastFailureDetail: r.last_failure_detail,
    }));
    return { requests: g.requests, errors: g.errors, routes, targets };
  }

  /** Replaces the saved snapshot with `totals`, unless it is the one saved last; true when written. Throws SQLite's error. */
  save(totals: Totals, now = Date.now()): boolean {
    const json = JSON.stringify(totals);
    if (json === this.last) return false;
    this.write(totals, now);
    this.last = json;
    return true;
  }
}

function outcomes(json: string): Record<string, number> {
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
    return out;
  } catch {
    return {};
  }
}
