import type { StrategyEnv } from "./strategy.js";

/** Monotonic milliseconds: the default clock of strategies that measure rest or decay. */
export const monotonicNow = (): number => performance.now();

export const clockOf = (env: StrategyEnv | undefined): (() => number) => env?.now ?? monotonicNow;
