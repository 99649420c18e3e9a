import { z } from "zod";
import type { Candidate, Strategy } from "./strategy.js";
import { parseOptions } from "./options.js";

const optionsSchema = z.object({}).strict();

/**
 * Fewest in-flight requests (target.stats.inFlight). Ties go to the higher weight, then rotate:
 * among equals the one picked longest ago wins, so equal targets take strict turns instead of
 * the first one soaking up every tie.
 */
export class LeastConnections<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "least-connections";
  /** Pick sequence number of each pool index's last win (0 = never). */
  private readonly lastPicked: Float64Array;
  private picks = 0;

  constructor(pool: readonly T[]) {
    this.lastPicked = new Float64Array(pool.length);
  }

  pick(eligible: readonly T[]): T | undefined {
    const n = eligible.length;
    if (n <= 1) return eligible[0];
    const last = this.lastPicked;
    const first = eligible[0];
    if (first === undefined) return undefined;
    let best = first;
    let bestInFlight = best.stats.inFlight;
    for (let i = 1; i < n; i++) {
      const t = eligible[i];
      if (t === undefined) continue;
      const f = t.stats.inFlight;
      if (f > bestInFlight) continue;
      if (f < bestInFlight || t.weight > best.weight || (t.weight === best.weight && (last[t.index] ?? 0) < (last[best.index] ?? 0))) {
        best = t;
        bestInFlight = f;
      }
    }
    last[best.index] = ++this.picks;
    return best;
  }

  targetStatus(target: T): Record<string, unknown> {
    return { in_flight: target.stats.inFlight, weight: target.weight };
  }
}

export function createLeastConnections<T extends Candidate>(pool: readonly T[], options: Record<string, unknown>): Strategy<T> {
  parseOptions("least-connections", optionsSchema, options);
  return new LeastConnections(pool);
}
