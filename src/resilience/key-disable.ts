/**
 * Key auto-disable: takes an API key (a target) out of rotation when it is bad, says why, and
 * brings it back only when it is good again.
 *
 *   failure_rate  > failure_rate of the calls in the last window_s (after min_calls) failed.
 *                 Probed in the background every probe_interval_s (a cheap call with the key);
 *                 re-enabled after probes_to_enable passing probes in a row.
 *   auth          401/403 (auth_statuses), Gemini's 400 API_KEY_INVALID: the key is wrong.
 *   quota         OpenAI 429 insufficient_quota, Anthropic 400 "credit balance is too low",
 *                 402 (quota_statuses): the account is out of money.
 *   operator      disable() by hand.
 *   auth, quota and operator wait for an operator's enable(); probing would only repeat the
 *   error (and a probe cannot tell "credit added" from "still empty" for free).
 *
 * Rate limits (429) are not failures here: rate-limit-bench.ts benches the key until its reset.
 */
import type { KeyDisableConfig } from "../config/resilience-schema.js";
import { healthCheckSchema } from "../config/resilience-schema.js";
import type { Outcome } from "../core/outcome.js";
import type { Target } from "../core/target.js";
import type { KeyProblem, ProviderAdapter } from "../providers/adapter.js";
import { isBreakerFailure } from "./circuit-breaker.js";
import { TimeWindow } from "./sliding-window.js";
import { probeTarget } from "./health-check.js";
import { MemoryStore } from "../state/memory-store.js";
import { type StateCell, type StateStore, stateOp } from "../state/state-store.js";
import type { AttemptReport, Policy } from "./policy.js";
import { BackgroundProbes } from "./background-probes.js";

export type DisableReason = "failure_rate" | "auth" | "quota" | "operator";
export type EnableReason = "probes_passed" | "operator";

export interface KeyDisableEvent {
  target: Target;
  disabled: boolean;
  reason: DisableReason | EnableReason;
  detail: string;
  at: number;
}

export type KeyDisableListener = (event: KeyDisableEvent) => void;
/** A cheap call with the target's key: resolves true when the key works. Must not throw. */
export type KeyProbe = (target: Target, signal: AbortSignal) => Promise<boolean>;

export interface KeyDisableOptions {
  probe?: KeyProbe;
  now?: () => number;
  store?: StateStore;
  /** The route's targets: their state is made at setup (others on first use). */
  targets?: readonly Target[];
}

const DEFAULT_PROBE_CONFIG = healthCheckSchema.parse({});
/** The provider's cheap call (GET {base}/models…) as the probe. */
export const defaultKeyProbe: KeyProbe = async (target, signal) =>
  (await probeTarget(target, DEFAULT_PROBE_CONFIG, undefined, signal)).pass;

/**
 * Does this answer say the key itself is unusable? The configured statuses (401/403 → auth,
 * 402 → quota), then what the provider's adapter reads in the body (OpenAI's
 * `insufficient_quota`, Anthropic's "credit balance is too low", Gemini's API_KEY_INVALID).
 */
export function keyProblem(status: number, errorBody: string, config: KeyDisableConfig, adapter?: ProviderAdapter): KeyProblem {
  if (config.auth_statuses.includes(status)) return "auth";
  if (config.quota_statuses.includes(status)) return "quota";
  return adapter?.keyProblem(status, errorBody) ?? null;
}

/** Whether a key is disabled and why: what its StateStore cell holds. */
export interface KeyState {
  readonly disabled: boolean;
  readonly reason: DisableReason | null;
  readonly detail: string;
  /** Epoch ms of the last change. */
  readonly since: number;
}

const ENABLED: KeyState = Object.freeze({ disabled: false, reason: null, detail: "", since: 0 });

export const KEY_OPS = {
  /** Disables a key; an auth/quota verdict overrides a failure-rate one (it stops the probing), nothing else re-disables. */
  disable: stateOp<KeyState, { reason: DisableReason; detail: string }>("key.disable", (s, a, now) =>
    s.disabled && !(s.reason === "failure_rate" && a.reason !== "failure_rate")
      ? s
      : { disabled: true, reason: a.reason, detail: a.detail, since: now },
  ),
  enable: stateOp<KeyState>("key.enable", (s, _a, now) => (s.disabled ? { disabled: false, reason: null, detail: "", since: now } : s)),
} as const;

/** A key's shared state and what this process keeps beside it: its outcome window and probe schedule. */
class KeyEntry {
  probePasses = 0;
  nextProbeAt = 0;
  probing = false;
  constructor(
    readonly cell: StateCell<KeyState>,
    readonly window: TimeWindow,
    /** Answers to read whole before relaying: they may say the key is bad. */
    readonly readFirst: ReadonlySet<number>,
  ) {}
}

const NOTHING: ReadonlySet<number> = new Set();

export class KeyDisable implements Policy {
  readonly name = "key_disabled";
  /** drain: no new attempts while its calls in flight finish, until enabled (what a dashboard's drain button asks). */
  readonly actions = ["enable", "disable", "drain"] as const;
  private readonly entries = new Map<Target, KeyEntry>();
  private readonly listeners: KeyDisableListener[] = [];
  private readonly probe: KeyProbe;
  private readonly now: () => number;
  private readonly store: StateStore;
  private readonly probes = new BackgroundProbes(() => void this.probeDue(this.now()));

  constructor(
    private readonly config: KeyDisableConfig,
    options: KeyDisableOptions = {},
  ) {
    this.probe = options.probe ?? defaultKeyProbe;
    this.now = options.now ?? Date.now;
    this.store = options.store ?? new MemoryStore();
    for (const t of options.targets ?? []) this.entry(t);
  }

  /**
   * Statuses of a target's answers to read whole before relaying them, because they may say
   * the key is bad: the configured auth and quota statuses, and its provider's own (Gemini's
   * and Anthropic's 400). Nothing when key disable is off.
   */
  readsFirst(target: Target): ReadonlySet<number> {
    return this.config.enabled ? this.entry(target).readFirst : NOTHING;
  }

  /** Does this answer say the target's key is unusable? */
  problem(target: Target, status: number, errorBody: string): KeyProblem {
    return this.config.enabled ? keyProblem(status, errorBody, this.config, target.adapter) : null;
  }

  /** Policy hook: every attempt's outcome (a 499 says nothing about the key). */
  onOutcome(r: AttemptReport, now: number): void {
    if (r.outcome.status !== 499) this.onResult(r.target, r.outcome, now, r.errorBody);
  }

  /**
   * Feed an attempt's outcome. errorBody: the start of the upstream's error body when it
   * sent one (the only place "insufficient_quota" shows).
   */
  onResult(target: Target, outcome: Outcome, now: number, errorBody = ""): void {
    if (!this.config.enabled) return;
    const e = this.entry(target);
    if (e.cell.value.disabled) return;
    if (outcome.status >= 400) {
      const problem = keyProblem(outcome.status, errorBody, this.config, target.adapter);
      if (problem !== null) return this.disable(target, problem, `${outcome.status} from upstream`, now);
    }
    if (outcome.kind === "rate_limited") return;
    e.window.record(isBreakerFailure(outcome.kind), false, now);
    const calls = e.window.calls(now);
    if (calls < this.config.min_calls) return;
    const failures = e.window.failures(now);
    if (failures > this.config.failure_rate * calls)
      this.disable(target, "failure_rate", `${failures} of ${calls} calls failed in ${this.config.window_s} s`, now);
  }

  disable(target: Target, reason: DisableReason, detail: string, now: number): void {
    const e = this.entry(target);
    const before = e.cell.value;
    const after = this.store.apply(e.cell, KEY_OPS.disable, { reason, detail }, now);
    if (after === before) return;
    e.probePasses = 0;
    e.nextProbeAt = reason === "failure_rate" ? now + this.config.probe_interval_s * 1000 : 0;
    this.emit(target, true, reason, detail, now);
  }

  /** Operator: puts the key back, whatever disabled it. */
  enable(target: Target, now = this.now()): void {
    this.reenable(target, "operator", "enabled by operator", now);
  }

  act(action: string, target: Target, now: number): void {
    if (action === "enable") this.enable(target, now);
    else if (action === "disable") this.disable(target, "operator", "disabled by operator", now);
    else if (action === "drain")
      this.disable(target, "operator", `drained by operator (${target.stats.inFlight} in flight finishing)`, now);
  }

  isDisabled(target: Target): boolean {
    return this.entry(target).cell.value.disabled;
  }

  reason(target: Target): DisableReason | null {
    return this.entry(target).cell.value.reason;
  }

  onChange(listener: KeyDisableListener): void {
    this.listeners.push(listener);
  }

  /** Probes every failure-rate-disabled key whose probe is due (never two at once per key). Resolves when they end. */
  async probeDue(now = this.now()): Promise<void> {
    const started: Promise<void>[] = [];
    for (const [target, e] of this.entries) {
      const s = e.cell.value;
      if (!s.disabled || s.reason !== "failure_rate" || e.probing || now < e.nextProbeAt) continue;
      e.probing = true;
      started.push(this.probes.track(this.runProbe(target, e)));
    }
    await Promise.all(started);
  }

  /** Background probing: checks for due probes every tickMs (timer unref'd). */
  start(tickMs = 500): void {
    this.probes.start(tickMs);
  }

  stop(): Promise<void> {
    return this.probes.stop();
  }

  isEligible(target: Target): boolean {
    return !this.entry(target).cell.value.disabled;
  }

  /** Re-enabling takes probes or an operator, never time alone. */
  eligibleAt(): number {
    return 0;
  }

  targetStatus(target: Target): Record<string, unknown> | undefined {
    const e = this.entry(target);
    const s = e.cell.value;
    if (!s.disabled) return undefined;
    return { disabled: true, reason: s.reason, detail: s.detail, since: new Date(s.since).toISOString(), probe_passes: e.probePasses };
  }

  private async runProbe(target: Target, e: KeyEntry): Promise<void> {
    let pass = false;
    try {
      pass = await this.probe(target, this.probes.signal);
    } catch {
      pass = false;
    }
    const now = this.now();
    e.probing = false;
    const s = e.cell.value;
    if (this.probes.signal.aborted || !s.disabled || s.reason !== "failure_rate") return;
    e.probePasses = pass ? e.probePasses + 1 : 0;
    if (e.probePasses >= this.config.probes_to_enable)
      return this.reenable(target, "probes_passed", `${e.probePasses} probe${e.probePasses === 1 ? "" : "s"} passed`, now);
    e.nextProbeAt = now + this.config.probe_interval_s * 1000;
  }

  private reenable(target: Target, reason: EnableReason, detail: string, now: number): void {
    const e = this.entry(target);
    const before = e.cell.value;
    if (this.store.apply(e.cell, KEY_OPS.enable, undefined, now) === before) return;
    e.probePasses = 0;
    e.window.reset();
    this.emit(target, false, reason, detail, now);
  }

  private emit(target: Target, disabled: boolean, reason: DisableReason | EnableReason, detail: string, at: number): void {
    if (this.listeners.length === 0) return;
    const event: KeyDisableEvent = { target, disabled, reason, detail, at };
    for (const l of this.listeners) l(event);
  }

  private entry(target: Target): KeyEntry {
    let e = this.entries.get(target);
    if (e === undefined) {
      const c = this.config;
      const readFirst = new Set([...c.auth_statuses, ...c.quota_statuses, ...target.adapter.keyProblemStatuses]);
      e = new KeyEntry(this.store.cell(`key/${target.routeName}/${target.id}`, ENABLED), new TimeWindow(c.window_s), readFirst);
      this.entries.set(target, e);
    }
    return e;
  }
}
