/**
 * Strategy options: each strategy declares a small zod schema and parses its slice of the route's
 * `strategy_options` once, when the route is built. Errors name the option the way the YAML spells
 * it (`strategy_options.latency.half_life_s: must be > 0`); the route builder prefixes the route.
 */
import { z } from "zod";
import { strategyEnum } from "../config/schema.js";

export function parseOptions<S extends z.ZodType>(strategy: string, schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new Error(`strategy_options.${strategy}: invalid`);
  const path = ["strategy_options", strategy, ...issue.path.map(String)];
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    if (key !== undefined) path.push(key);
    message = "unknown option";
  }
  throw new Error(`${path.join(".")}: ${message}`);
}

export const positive = () => z.number({ error: "must be a number" }).positive({ error: "must be > 0" });
export const nonNegative = () => z.number({ error: "must be a number" }).nonnegative({ error: "must be >= 0" });
export const positiveInt = () =>
  z.number({ error: "must be a number" }).int({ error: "must be an integer" }).positive({ error: "must be > 0" });
/** Seed for the strategy's random generator: the same seed gives the same picks (tests, replays). */
export const seed = () => z.number({ error: "must be an integer" }).int({ error: "must be an integer" }).optional();
/** A strategy name (an alias like round_robin taken for its canonical name). */
export const strategyName = strategyEnum;
