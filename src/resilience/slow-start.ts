/**
 * Slow start (Envoy): a target that just came back (health recovered, breaker closed, key
 * re-enabled) gets a weight factor that ramps up over window_s instead of its full share at
 * once, so a cold or barely recovered upstream is not flattened by the whole pool's traffic:
 *
 *   factor(t) = max(min_weight, (t / window) ^ (1 / aggression)),   1 once t ≥ window
 *
 * aggression 1 is linear; > 1 ramps faster early, < 1 slower.
 */
import type { SlowStartConfig } from "../config/resilience-schema.js";
import type { Target } from "../core/target.js";

export class SlowStart {
  /** Epoch ms each ramping target began; a target leaves the map when its ramp is over. */
  private readonly started = new Map<Target, number>();
  private readonly windowMs: number;
  private readonly minWeight: number;
  private readonly exponent: number;
  private readonly enabled: boolean;

  constructor(config: SlowStartConfig) {
    this.enabled = config.enabled;
    this.windowMs = config.window_s * 1000;
    this.minWeight = config.min_weight;
    this.exponent = 1 / config.aggression;
  }

  /** The target recovered at `now`: start (or restart) its ramp. */
  begin(target: Target, now: number): void {
    if (this.enabled) this.started.set(target, now);
  }

  /** Weight multiplier in [min_weight, 1]. */
  factor(target: Target, now: number): number {
    if (this.started.size === 0) return 1;
    const at = this.started.get(target);
    if (at === undefined) return 1;
    const t = now - at;
    if (t >= this.windowMs) {
      this.started.delete(target);
      return 1;
    }
    const f = t <= 0 ? 0 : Math.pow(t / this.windowMs, this.exponent);
    return f > this.minWeight ? f : this.minWeight;
  }

  /** Is the target still ramping? */
  isRamping(target: Target, now: number): boolean {
    const at = this.started.get(target);
    return at !== undefined && now - at < this.windowMs;
  }

  /** Ends a ramp early (operator, or the target failed again and is out anyway). */
  cancel(target: Target): void {
    this.started.delete(target);
  }

  targetStatus(target: Target, now: number): Record<string, unknown> | undefined {
    if (!this.isRamping(target, now)) return undefined;
    return { factor: Math.round(this.factor(target, now) * 1000) / 1000, ends_at: new Date(this.started.get(target)! + this.windowMs).toISOString() };
  }
}
