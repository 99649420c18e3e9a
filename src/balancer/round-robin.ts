import type { Strategy } from "./strategy.js";
import type { Target } from "../gateway/target.js";

/** Strict rotation over the eligible targets. */
export class RoundRobin implements Strategy {
  readonly name = "round-robin";
  private next = 0;

  pick(eligible: readonly Target[]): Target | undefined {
    const n = eligible.length;
    if (n === 0) return undefined;
    const i = this.next % n;
    this.next = (i + 1) % 0x7fffffff;
    return eligible[i];
  }
}

export const createRoundRobin = () => new RoundRobin();
