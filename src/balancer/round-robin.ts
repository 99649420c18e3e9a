import { z } from "zod";
import type { Strategy } from "./strategy.js";
import type { Target } from "../core/target.js";
import { parseOptions } from "./options.js";

const optionsSchema = z.object({}).strict();

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

  status(): Record<string, unknown> {
    return { next: this.next };
  }
}

export const createRoundRobin = (_pool?: readonly Target[], options?: Record<string, unknown>): Strategy => {
  parseOptions("round-robin", optionsSchema, options);
  return new RoundRobin();
};
