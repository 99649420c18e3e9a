import { z } from "zod";
import type { Candidate, Strategy } from "./strategy.js";
import { parseOptions } from "./options.js";

const optionsSchema = z.object({}).strict();

/** Strict rotation over the eligible targets. */
export class RoundRobin<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "round-robin";
  private next = 0;

  pick(eligible: readonly T[]): T | undefined {
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

export const createRoundRobin = <T extends Candidate>(_pool?: readonly T[], options?: Record<string, unknown>): Strategy<T> => {
  parseOptions("round-robin", optionsSchema, options);
  return new RoundRobin();
};
