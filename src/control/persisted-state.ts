import type { Config } from "../config/schema.js";
import type { OutcomeKind } from "../core/outcome.js";
import type { Target } from "../core/target.js";
import type { TargetStats } from "../core/target-stats.js";
import type { Gateway } from "../pipeline/gateway.js";
import { Database } from "../state/database.js";
import { MemoryStore } from "../state/memory-store.js";
import { PersistentStore } from "../state/persistent-store.js";
import type { StateStore } from "../state/state-store.js";
import { type RouteTotals, type TargetTotals, type Totals, TotalsSnapshot } from "../state/totals-snapshot.js";
import type { ControlLogger } from "./control-plane.js";

/** How often the totals are saved, ms: a crash loses at most this much counting. */
const TOTALS_FLUSH_MS = 5000;
const SEP = "\u0000";

export interface PersistedStateOptions {
  /** How often the totals are saved (default 5 s). */
  totalsFlushMs?: number;
  /** How often changed policy state is written (default 1 s). */
  cellsFlushMs?: number;
}

/**
 * What a restart keeps, in the store's SQLite file (config.store.path): the policies' state
 * (breakers, benches, disabled keys, health verdicts, slow-start ramps) and the totals (the
 * gateway's, each route's and each target's counters). One small API for whoever starts a gateway:
 *
 *   const persisted = PersistedState.open(config, log);              reads the file
 *   const gateway = createGateway(config, { store: persisted.store }); policies find their saved states
 *   persisted.attach(gateway);                                       totals restored, saving starts
 *   … gateway.close()  (the engine closes its store: the last states and totals are written, the file closed)
 *
 * `:memory:` (a config given as an object) keeps everything in memory; a file that cannot be opened
 * is said loudly and the gateway runs on memory (state is not worth an outage).
 *
 * A target is the same across a restart when its route, id and base URL are: one whose base URL
 * changed while the gateway was down is another upstream, and starts with no state and no totals
 * (the rule a reload follows). Targets saved but not running at start (found later by discovery,
 * or back after a reload) keep their totals until they show up.
 */
export class PersistedState {
  readonly store: StateStore;
  /** The store's file; undefined when nothing is kept across a restart. */
  readonly path: string | undefined;
  private readonly totals: TotalsSnapshot | undefined;
  private saved: { requests: number; errors: number } = { requests: 0, errors: 0 };
  /** Saved totals of routes and targets not restored yet, by route / `route\0target`. */
  private readonly pendingRoutes = new Map<string, number>();
  private readonly pendingTargets = new Map<string, TargetTotals>();
  private gateway: Gateway | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  private constructor(
    config: Config,
    private readonly db: Database | undefined,
    private readonly log: ControlLogger,
    private readonly options: PersistedStateOptions,
  ) {
    if (db === undefined) {
      this.store = new MemoryStore();
      return;
    }
    const path = (this.path = db.path);
    this.totals = new TotalsSnapshot(db);
    const saved = this.totals.load();
    // Last, as it starts a timer: nothing after it may throw.
    const store = new PersistentStore(db, {
      flushMs: options.cellsFlushMs,
      onError: (err) => log.error({ err, store: path }, "state store: writing policy state failed; the changes are kept for the next try"),
      onUnreadable: (key, err) =>
        log.warn({ err, store: path, key }, "state store: a saved state is not JSON; it is ignored (that policy starts fresh)"),
      onClose: () => this.finish(),
    });
    this.store = store;
    this.saved = { requests: saved.requests, errors: saved.errors };
    for (const r of saved.routes) this.pendingRoutes.set(r.route, r.requests);
    const baseUrls = new Map(config.routes.flatMap((r) => r.targets.map((t) => [r.name + SEP + t.id, t.base_url] as const)));
    for (const t of saved.targets) {
      const now = baseUrls.get(t.route + SEP + t.target);
      if (now !== undefined && now !== t.baseUrl) store.forgetTarget(t.route, t.target);
      else this.pendingTargets.set(t.route + SEP + t.target, t);
    }
    const states = store.keys().length;
    if (states > 0 || saved.requests > 0) log.info({ store: path, states, requests: saved.requests }, "state restored from the store");
  }

  /** Opens config.store.path; memory for `:memory:`, or when the file cannot be opened (logged). */
  static open(config: Config, log: ControlLogger, options: PersistedStateOptions = {}): PersistedState {
    const path = config.store.path ?? ":memory:";
    if (path === ":memory:") return new PersistedState(config, undefined, log, options);
    let db: Database | undefined;
    try {
      db = Database.open(path);
      return new PersistedState(config, db, log, options);
    } catch (err) {
      db?.close();
      log.error(
        { err, store: path },
        "cannot open the store: breaker, key and bench state and the totals are kept in memory (they will not survive a restart)",
      );
      return new PersistedState(config, undefined, log, options);
    }
  }

  /** Puts the saved totals back into the gateway's counters and starts saving them. Call once, before traffic. */
  attach(gateway: Gateway): void {
    if (this.totals === undefined || this.gateway !== undefined) return;
    this.gateway = gateway;
    gateway.engine.requests += this.saved.requests;
    gateway.engine.errors += this.saved.errors;
    this.restore(gateway);
    // Routes and targets that show up later (discovery, a reload) get theirs when they do.
    gateway.events.onTopology(() => this.restore(gateway));
    this.timer = setInterval(() => this.save(), this.options.totalsFlushMs ?? TOTALS_FLUSH_MS);
    this.timer.unref();
  }

  /** Saves the totals now (when they changed since the last save); a failure is logged once per run of failures. */
  save(): void {
    const gw = this.gateway;
    if (gw === undefined || this.totals === undefined || this.db?.isOpen !== true) return;
    try {
      this.totals.save(this.snapshot(gw));
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.error({ err, store: this.path }, "state store: saving the totals failed; will try again");
      this.failing = true;
    }
  }

  /** Closes the store (the engine does, when the gateway closes): last states and totals written, file closed. */
  close(): Promise<void> {
    return this.store.close();
  }

  /** The store's last step at close: the totals, then the file. */
  private finish(): void {
    clearInterval(this.timer);
    this.save();
    this.db?.close();
  }

  private restore(gw: Gateway): void {
    if (this.pendingRoutes.size === 0 && this.pendingTargets.size === 0) return;
    for (const r of gw.routes) {
      const requests = this.pendingRoutes.get(r.name);
      if (requests !== undefined) {
        r.requests += requests;
        this.pendingRoutes.delete(r.name);
      }
      for (const t of r.targets) {
        const key = r.name + SEP + t.id;
        const saved = this.pendingTargets.get(key);
        if (saved === undefined) continue;
        this.pendingTargets.delete(key);
        if (saved.baseUrl === t.config.base_url) restoreInto(t.stats, saved);
      }
    }
  }

  /** The totals now: the running routes and targets, and those saved that have not shown up yet. */
  private snapshot(gw: Gateway): Totals {
    const routes: RouteTotals[] = [];
    const targets: TargetTotals[] = [];
    for (const r of gw.routes) {
      routes.push({ route: r.name, requests: r.requests });
      for (const t of r.targets) targets.push(totalsOf(r.name, t));
    }
    for (const [route, requests] of this.pendingRoutes) routes.push({ route, requests });
    for (const t of this.pendingTargets.values()) targets.push(t);
    return { requests: gw.engine.requests, errors: gw.engine.errors, routes, targets };
  }
}

function totalsOf(route: string, t: Target): TargetTotals {
  const s = t.stats;
  return {
    route,
    target: t.id,
    baseUrl: t.config.base_url,
    requests: s.requests,
    successes: s.successes,
    failures: s.failures,
    byOutcome: s.byOutcome,
    latencyEwmaMs: s.latencyEwmaMs,
    lastLatencyMs: s.lastLatencyMs,
    lastUsedAt: s.lastUsedAt,
    lastOutcome: s.lastOutcome,
    lastFailureAt: s.lastFailureAt,
    lastFailureDetail: s.lastFailureDetail,
  };
}

/** Adds the saved counters to the live ones (nothing was counted yet at start), and takes the saved "last" fields where none is set. */
function restoreInto(s: TargetStats, saved: TargetTotals): void {
  s.requests += saved.requests;
  s.successes += saved.successes;
  s.failures += saved.failures;
  const by = s.byOutcome;
  for (const k of Object.keys(by) as OutcomeKind[]) by[k] += saved.byOutcome[k] ?? 0;
  if (s.latencyEwmaMs === 0) s.latencyEwmaMs = saved.latencyEwmaMs;
  if (s.lastUsedAt === 0) s.lastUsedAt = saved.lastUsedAt;
  if (s.lastOutcome === "" && (saved.lastOutcome === "" || saved.lastOutcome in by)) {
    s.lastOutcome = saved.lastOutcome as OutcomeKind | "";
    s.lastLatencyMs = saved.lastLatencyMs;
  }
  if (s.lastFailureAt === 0) {
    s.lastFailureAt = saved.lastFailureAt;
    s.lastFailureDetail = saved.lastFailureDetail;
  }
}
