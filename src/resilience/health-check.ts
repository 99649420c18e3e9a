/**
 * Active health checks: each target is probed every interval_s (± jitter) with its provider's
 * cheap call that spends no tokens (GET …/models; /health for REST; see each adapter), with its
 * own key, so a check also proves the key works.
 *
 * Pass = expected status (any 2xx unless expect_status) and, when the body is JSON with a
 * `status` field, not "down" ("degraded"/"warn" pass but are reported). State per target:
 *
 *   unknown ──pass──► healthy ──unhealthy_threshold fails in a row──► unhealthy
 *      │                 ▲                                               │
 *      └─ unhealthy_threshold fails ──────────► unhealthy ──healthy_threshold passes──┘
 *
 * unknown counts as eligible (a gateway must serve before its first round of checks ends).
 * A target's next check is armed only when its previous one ended: checks never overlap.
 */
import type { Dispatcher } from "undici";
import type { HealthCheckConfig } from "../config/resilience-schema.js";
import type { Target } from "../core/target.js";
import { sendProbe } from "./probe.js";
import { MemoryStore } from "../state/memory-store.js";
import { type StateCell, type StateStore, stateOp } from "../state/state-store.js";
import type { Policy } from "./policy.js";

export type HealthState = "unknown" | "healthy" | "unhealthy";

export interface ProbeResult {
  pass: boolean;
  degraded: boolean;
  /** HTTP status; 0 when no response (timeout, refused). */
  status: number;
  detail: string;
  latencyMs: number;
}

export interface HealthEvent {
  target: Target;
  from: HealthState;
  to: HealthState;
  degraded: boolean;
  detail: string;
  at: number;
}

export type HealthListener = (event: HealthEvent) => void;

export interface HealthCheckerOptions {
  /** undici dispatcher for the checks (default: undici's global one). */
  dispatcher?: Dispatcher;
  random?: () => number;
  now?: () => number;
  store?: StateStore;
}

const DOWN = new Set(["down", "fail", "unhealthy", "error", "critical"]);
const DEGRADED = new Set(["degraded", "warn", "warning", "partial"]);

/** One check of one target: its cheap call (probe.ts), judged by status and the body's `status`. Never throws. */
export async function probeTarget(
  target: Target,
  config: HealthCheckConfig,
  dispatcher?: Dispatcher,
  outer?: AbortSignal,
): Promise<ProbeResult> {
  const r = await sendProbe(target, { path: config.path, method: config.method, timeoutMs: config.timeout_ms, dispatcher, signal: outer });
  const { status, latencyMs } = r;
  if (status === 0) return { pass: false, degraded: false, status, detail: r.failure, latencyMs };
  const statusOk = config.expect_status ? config.expect_status.includes(status) : status >= 200 && status < 300;
  if (!statusOk) return { pass: false, degraded: false, status, detail: `status ${status}`, latencyMs };
  const reported = reportedStatus(r.body);
  if (reported !== "" && DOWN.has(reported))
    return { pass: false, degraded: false, status, detail: `reports status "${reported}"`, latencyMs };
  const degraded = reported !== "" && DEGRADED.has(reported);
  return { pass: true, degraded, status, detail: degraded ? `reports status "${reported}"` : "ok", latencyMs };
}

/** The lower-cased `status` of a JSON health body ({"status":"ok"|"degraded"|"down"}), or "". */
function reportedStatus(text: string): string {
  const s = text.trimStart();
  if (s.charCodeAt(0) !== 123 /* { */) return "";
  try {
    const j = JSON.parse(s) as { status?: unknown };
    return typeof j.status === "string" ? j.status.toLowerCase() : "";
  } catch {
    return "";
  }
}

/** A target's health verdict: what its StateStore cell holds. */
export interface HealthVerdict {
  readonly state: HealthState;
  readonly degraded: boolean;
  readonly checks: number;
  readonly last_check_at: number;
  readonly last_status: number;
  readonly last_detail: string;
}

const UNKNOWN: HealthVerdict = Object.freeze({
  state: "unknown",
  degraded: false,
  checks: 0,
  last_check_at: 0,
  last_status: 0,
  last_detail: "",
});

export const HEALTH_OPS = {
  checked: stateOp<HealthVerdict, Omit<HealthVerdict, "checks">>("health.checked", (s, v) => ({ ...v, checks: s.checks + 1 })),
} as const;

/** A checked target: its shared verdict, and this process's streaks and timer. */
class HealthEntry {
  passes = 0;
  fails = 0;
  timer: NodeJS.Timeout | null = null;
  running: Promise<ProbeResult> | null = null;
  constructor(
    readonly target: Target,
    readonly config: HealthCheckConfig,
    readonly cell: StateCell<HealthVerdict>,
  ) {}
}

export class HealthChecker implements Policy {
  readonly name = "health_check";
  private readonly entries = new Map<Target, HealthEntry>();
  private readonly listeners: HealthListener[] = [];
  private readonly dispatcher: Dispatcher | undefined;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly store: StateStore;
  private stopping = new AbortController();
  private started = false;

  /** `config` per target: one for all, or a function (undefined / enabled: false = not checked). */
  constructor(
    targets: readonly Target[],
    config: HealthCheckConfig | ((t: Target) => HealthCheckConfig | undefined),
    options: HealthCheckerOptions = {},
  ) {
    this.store = options.store ?? new MemoryStore();
    for (const t of targets) {
      const c = typeof config === "function" ? config(t) : config;
      if (c !== undefined && c.enabled)
        this.entries.set(t, new HealthEntry(t, c, this.store.cell(`health/${t.routeName}/${t.id}`, UNKNOWN)));
    }
    this.dispatcher = options.dispatcher;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Arms every target's first check at a random point of its first jitter span, so they spread. */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    for (const e of this.entries.values()) this.arm(e, this.random() * e.config.jitter * e.config.interval_s * 1000);
  }

  /** Clears every timer and aborts checks in flight; resolves when they have ended. */
  async stop(): Promise<void> {
    this.started = false;
    this.stopping.abort();
    const running: Promise<ProbeResult>[] = [];
    for (const e of this.entries.values()) {
      if (e.timer !== null) clearTimeout(e.timer);
      e.timer = null;
      if (e.running !== null) running.push(e.running);
    }
    await Promise.all(running);
  }

  /** Checks a target now (or joins the check already running) and applies the result. */
  checkNow(target: Target): Promise<ProbeResult> {
    const e = this.entries.get(target);
    if (e === undefined) return Promise.reject(new Error(`target ${target.id} has no health check`));
    if (e.running === null) e.running = this.run(e);
    return e.running;
  }

  state(target: Target): HealthState {
    return this.entries.get(target)?.cell.value.state ?? "unknown";
  }

  onChange(listener: HealthListener): void {
    this.listeners.push(listener);
  }

  isEligible(target: Target): boolean {
    const e = this.entries.get(target);
    return e === undefined || e.cell.value.state !== "unhealthy";
  }

  /** Recovery depends on checks, not on time alone. */
  eligibleAt(): number {
    return 0;
  }

  targetStatus(target: Target): Record<string, unknown> | undefined {
    const e = this.entries.get(target);
    if (e === undefined) return undefined;
    const v = e.cell.value;
    return {
      state: v.state,
      degraded: v.degraded,
      checks: v.checks,
      last_check_at: v.last_check_at ? new Date(v.last_check_at).toISOString() : null,
      last_status: v.last_status || null,
      last_detail: v.last_detail || null,
    };
  }

  private async run(e: HealthEntry): Promise<ProbeResult> {
    try {
      const signal = this.stopping.signal;
      const r = await probeTarget(e.target, e.config, this.dispatcher, signal);
      if (!signal.aborted) this.apply(e, r);
      return r;
    } finally {
      e.running = null;
      if (this.started) this.arm(e, this.nextDelay(e.config));
    }
  }

  private apply(e: HealthEntry, r: ProbeResult): void {
    const before = e.cell.value;
    const from = before.state;
    let state = from;
    let degraded: boolean;
    if (r.pass) {
      e.passes++;
      e.fails = 0;
      degraded = r.degraded;
      // One pass makes an unknown target healthy (Envoy); an unhealthy one needs healthy_threshold.
      if (from === "unknown" || (from === "unhealthy" && e.passes >= e.config.healthy_threshold)) state = "healthy";
    } else {
      e.fails++;
      e.passes = 0;
      degraded = false;
      if (from !== "unhealthy" && e.fails >= e.config.unhealthy_threshold) state = "unhealthy";
    }
    const at = this.now();
    this.store.apply(e.cell, HEALTH_OPS.checked, { state, degraded, last_check_at: at, last_status: r.status, last_detail: r.detail }, at);
    if (state !== from || degraded !== before.degraded) {
      const event: HealthEvent = { target: e.target, from, to: state, degraded, detail: r.detail, at };
      for (const l of this.listeners) l(event);
    }
  }

  private arm(e: HealthEntry, delayMs: number): void {
    if (e.timer !== null) clearTimeout(e.timer);
    e.timer = setTimeout(this.fire, delayMs, e);
    e.timer.unref();
  }

  /** One bound method for every timer: no closure per check. */
  private readonly fire = (e: HealthEntry): void => {
    e.timer = null;
    if (this.started && e.running === null) e.running = this.run(e);
  };

  private nextDelay(c: HealthCheckConfig): number {
    return c.interval_s * 1000 * (1 + c.jitter * (2 * this.random() - 1));
  }
}
