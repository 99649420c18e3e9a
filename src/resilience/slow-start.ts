/**
 * Slow start (Envoy): a target that just came back (health recovered, breaker closed, key
 * re-enabled) gets a weight factor that ramps up over window_s instead of its full share at
 * once, so a cold or barely recovered upstream is not flattened by the whole pool's traffic:
 *
 *   factor(t) = max(min_weight, (t / window) ^ (1 / aggression)),   1 once t ≥ window
 *
 * aggression 1 is linear; > 1 ramps faster early, < 1 slower. When a ramp began is a StateStore
 * cell per target, so every process sharing the store ramps the same target together.
 */
import type { SlowStartConfig } from "../config/resilience-schema.js";
import type { Target } from "../core/target.js";
import { MemoryStore } from "../state/memory-store.js";
import { type StateCell, type StateStore, stateOp } from "../state/state-store.js";
import type { Policy } from "./policy.js";

/** Epoch ms a target's ramp began; 0 = not ramping. */
export type RampState = number;

export const RAMP_OPS = {
  begin: stateOp<RampState>("slow_start.begin", (_s, _a, now) => now),
  end: stateOp<RampState>("slow_start.end", () => 0),
} as const;

export class SlowStart implements Policy {
  readonly name = "slow_start";
  private readonly cells: (StateCell<RampState> | undefined)[] = [];
  private readonly windowMs: number;
  private readonly minWeight: number;
  private readonly exponent: number;
  private readonly enabled: boolean;

  constructor(
    config: SlowStartConfig,
    private readonly store: StateStore = new MemoryStore(),
    targets: readonly Target[] = [],
  ) {
    for (const t of targets) this.cellOf(t);
    this.enabled = config.enabled;
    this.windowMs = config.window_s * 1000;
    this.minWeight = config.min_weight;
    this.exponent = 1 / config.aggression;
  }

  /** The target recovered at `now`: start (or restart) its ramp. */
  begin(target: Target, now: number): void {
    if (this.enabled) this.store.apply(this.cellOf(target), RAMP_OPS.begin, undefined, now);
  }

  /** Weight multiplier in [min_weight, 1]. */
  share(target: Target, now: number): number {
    const c = this.cellOf(target);
    const at = c.value;
    if (at === 0) return 1;
    const t = now - at;
    if (t >= this.windowMs) {
      this.store.apply(c, RAMP_OPS.end, undefined, now);
      return 1;
    }
    const f = t <= 0 ? 0 : Math.pow(t / this.windowMs, this.exponent);
    return f > this.minWeight ? f : this.minWeight;
  }

  /** Is the target still ramping? */
  isRamping(target: Target, now: number): boolean {
    const at = this.cellOf(target).value;
    return at !== 0 && now - at < this.windowMs;
  }

  /** Ends a ramp early (operator, or the target failed again and is out anyway). */
  cancel(target: Target, now = Date.now()): void {
    const c = this.cellOf(target);
    if (c.value !== 0) this.store.apply(c, RAMP_OPS.end, undefined, now);
  }

  targetStatus(target: Target, now: number): Record<string, unknown> | undefined {
    if (!this.isRamping(target, now)) return undefined;
    const at = this.cellOf(target).value;
    return { factor: Math.round(this.share(target, now) * 1000) / 1000, ends_at: new Date(at + this.windowMs).toISOString() };
  }

  /** The target's cell, made on first use (targets given to the constructor have theirs already). */
  private cellOf(target: Target): StateCell<RampState> {
    const c = this.cells[target.index];
    if (c !== undefined) return c;
    return (this.cells[target.index] = this.store.cell<RampState>(`slow_start/${target.routeName}/${target.id}`, 0));
  }
}
