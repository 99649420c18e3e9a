import { breakerSchema, mergePolicy, type BreakerConfig } from "../config/resilience-schema.js";
import type { RouteConfig } from "../config/schema.js";
import type { Target } from "../core/target.js";
import type { StateStore } from "../state/state-store.js";
import { createBackoff } from "./backoff.js";
import { CircuitBreaker, type TransitionListener } from "./circuit-breaker.js";
import { type AttemptReport, type Policy, REFUSED } from "./policy.js";
import { BackgroundProbes } from "./background-probes.js";
import { type ProbeAnswer, sendProbe } from "./probe.js";

/** Sends a target's cheap call for a recovery probe. Tests give their own. */
export type RecoveryProbe = (target: Target, signal: AbortSignal) => Promise<ProbeAnswer>;

const PROBE_TIMEOUT_MS = 5_000;
/** How often the prober looks for open breakers whose probe is due. */
const TICK_MS = 250;

export const defaultRecoveryProbe: RecoveryProbe = (target, signal) => sendProbe(target, { timeoutMs: PROBE_TIMEOUT_MS, signal });

/**
 * The route's circuit breakers, one per target (the route's `breaker` block with the target's
 * overrides), as one policy: eligibility, admission of probes, outcomes, operator actions.
 *
 * Recovery probes: while a breaker is open, the target's cheap call (GET …/models, /health) goes
 * out every `probe_interval_s`; once the target answers at all (any status under 500 but 429), the
 * open wait ends and real calls test it (half-open). So a target back from an outage rejoins
 * within about a probe interval, however long the open wait had grown while it was down.
 */
export class BreakerPolicy implements Policy {
  readonly name = "breaker";
  readonly actions = ["reset-breaker", "open-breaker"] as const;
  private readonly breakers: CircuitBreaker[];
  private readonly probeEveryMs: Float64Array;
  private readonly nextProbeAt: Float64Array;
  private readonly probing: Uint8Array;
  private readonly probes = new BackgroundProbes(() => void this.probeDue(Date.now()));

  constructor(
    route: Pick<RouteConfig, "name" | "breaker">,
    private readonly targets: readonly Target[],
    store: StateStore,
    private readonly probe: RecoveryProbe = defaultRecoveryProbe,
  ) {
    const configs: BreakerConfig[] = targets.map((t) => mergePolicy(breakerSchema, route.breaker, t.config.breaker));
    this.breakers = targets.map((t, i) => {
      const b = configs[i] as BreakerConfig;
      const open = createBackoff({ ...b.open_backoff, base_ms: b.open_s * 1000, max_ms: b.max_open_s * 1000 });
      return new CircuitBreaker(b, `${route.name}/${t.id}`, open, store);
    });
    this.probeEveryMs = Float64Array.from(configs, (b) => b.probe_interval_s * 1000);
    this.nextProbeAt = new Float64Array(targets.length);
    this.probing = new Uint8Array(targets.length);
    // The first probe goes one interval after the breaker opened: it has just seen the target fail.
    this.breakers.forEach((b, i) =>
      b.onTransition((_from, to) => {
        if (to === "open") this.nextProbeAt[i] = Date.now() + (this.probeEveryMs[i] ?? 0);
      }),
    );
  }

  /** The target's breaker. */
  of(t: Target): CircuitBreaker {
    return this.breakers[t.index] as CircuitBreaker;
  }

  onTransition(listener: (target: Target, ...rest: Parameters<TransitionListener>) => void): void {
    this.targets.forEach((t, i) => this.breakers[i]?.onTransition((from, to, reason, name) => listener(t, from, to, reason, name)));
  }

  isEligible(t: Target, now: number): boolean {
    return this.of(t).wouldAdmit(now);
  }

  eligibleAt(t: Target): number {
    return this.of(t).openUntil;
  }

  admit(t: Target, now: number): number {
    const b = this.of(t);
    return b.tryAcquire(now) ? b.epoch : REFUSED;
  }

  onOutcome(r: AttemptReport, now: number): void {
    const b = this.of(r.target);
    if (r.outcome.status === 499) b.release(r.ticket);
    else b.onResult(r.outcome.kind, r.ttfbMs || r.latencyMs, now, r.ticket);
  }

  act(action: string, t: Target, now: number): void {
    if (action === "reset-breaker") this.of(t).reset(now);
    else if (action === "open-breaker") this.of(t).forceOpen(now);
  }

  targetStatus(t: Target, now: number): Record<string, unknown> {
    return this.of(t).stats(now);
  }

  start(): void {
    if (this.probeEveryMs.some((ms) => ms > 0)) this.probes.start(TICK_MS);
  }

  stop(): Promise<void> {
    return this.probes.stop();
  }

  /** Probes every open breaker's target whose probe is due (never two at once per target). */
  async probeDue(now = Date.now()): Promise<void> {
    const started: Promise<void>[] = [];
    for (let i = 0; i < this.breakers.length; i++) {
      const b = this.breakers[i] as CircuitBreaker;
      const every = this.probeEveryMs[i] as number;
      if (every <= 0 || this.probing[i] === 1 || b.state !== "open") continue;
      if (now < (this.nextProbeAt[i] as number)) continue;
      this.probing[i] = 1;
      started.push(this.probes.track(this.runProbe(i, b)));
    }
    await Promise.all(started);
  }

  private async runProbe(i: number, b: CircuitBreaker): Promise<void> {
    const t = this.targets[i] as Target;
    let answered = false;
    try {
      const r = await this.probe(t, this.probes.signal);
      answered = r.status > 0 && r.status < 500 && r.status !== 429;
    } catch {
      answered = false;
    }
    this.probing[i] = 0;
    const now = Date.now();
    this.nextProbeAt[i] = now + (this.probeEveryMs[i] as number);
    if (answered && !this.probes.signal.aborted) b.probeAnswered(now);
  }
}
