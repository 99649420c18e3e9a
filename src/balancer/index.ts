import type { StrategyName } from "../config/schema.js";
import type { StrategyFactory } from "./strategy.js";
import { createRoundRobin } from "./round-robin.js";
import { createWeighted } from "./weighted.js";
import { createWeightedRandom } from "./weighted-random.js";
import { createLeastConnections } from "./least-connections.js";
import { createP2C } from "./p2c.js";
import { createLatency } from "./latency.js";
import { createHealth } from "./health-score.js";
import { createLeastRecentlyUsed } from "./least-recently-used.js";
import { createTimeWindow } from "./time-window.js";
import { createCost } from "./cost.js";
import { createQuality } from "./quality.js";
import { createTiered } from "./tiered.js";
import { createAdaptive } from "./adaptive.js";
import { createSticky } from "./sticky.js";

/**
 * Every strategy by its config name. A factory validates its own options (from the route's
 * strategy_options[name]) and throws an Error naming the bad option.
 */
export const STRATEGY_FACTORIES: Record<StrategyName, StrategyFactory> = {
  "round-robin": createRoundRobin,
  weighted: createWeighted,
  "weighted-random": createWeightedRandom,
  "least-connections": createLeastConnections,
  p2c: createP2C,
  latency: createLatency,
  health: createHealth,
  "least-recently-used": createLeastRecentlyUsed,
  "time-window": createTimeWindow,
  cost: createCost,
  quality: createQuality,
  // Tiered builds one inner strategy per tier from this same table.
  tiered: (pool, options, env) => createTiered(pool, options, STRATEGY_FACTORIES, env),
  adaptive: createAdaptive,
  sticky: createSticky,
};

export type { Strategy, StrategyEnv, StrategyFactory } from "./strategy.js";
