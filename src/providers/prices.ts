import { readFileSync } from "node:fs";
import type { Usage } from "./canonical.js";

/** What a model costs, in USD per 1 million tokens. */
export interface Price {
  readonly input: number;
  readonly output: number;
  /** Cached input read (OpenAI cached tokens, Anthropic cache reads, Gemini cached content); the input price when absent. */
  readonly cachedInput: number;
  /** Anthropic cache writes; the input price when absent. */
  readonly cacheWrite: number;
}

interface PriceRow {
  input: number;
  output: number;
  cached_input?: number;
  cache_write?: number;
}

/**
 * The shipped price table (prices.json, list prices per 1M tokens), read once. A target's own
 * `cost` block overrides it; a model it does not list costs nothing until configured.
 */
const TABLE: ReadonlyMap<string, Price> = loadTable();

function loadTable(): Map<string, Price> {
  const file = JSON.parse(readFileSync(new URL("./prices.json", import.meta.url), "utf8")) as { models: Record<string, PriceRow> };
  const out = new Map<string, Price>();
  for (const [model, row] of Object.entries(file.models)) out.set(model, priceOf(row));
  return out;
}

export function priceOf(row: PriceRow): Price {
  return { input: row.input, output: row.output, cachedInput: row.cached_input ?? row.input, cacheWrite: row.cache_write ?? row.input };
}

/**
 * The listed price of a model: its exact name, else the longest listed name it starts with
 * followed by "-" or "@" (a dated or suffixed name: gpt-4o-mini-2024-07-18 → gpt-4o-mini), after
 * dropping a path (`models/gemini-2.5-flash`, OpenRouter's `openai/gpt-4o`). Undefined when unlisted.
 */
export function listedPrice(model: string): Price | undefined {
  const slash = model.lastIndexOf("/");
  const name = (slash === -1 ? model : model.slice(slash + 1)).toLowerCase();
  const exact = TABLE.get(name);
  if (exact !== undefined) return exact;
  let best: Price | undefined;
  let bestLength = 0;
  for (const [listed, price] of TABLE) {
    if (listed.length <= bestLength || !name.startsWith(listed)) continue;
    const next = name[listed.length];
    if (next === "-" || next === "@" || next === ":") {
      best = price;
      bestLength = listed.length;
    }
  }
  return best;
}

/**
 * The cost of one answer in USD. Canonical usage counts cached reads and cache writes inside
 * prompt_tokens (OpenAI's meaning); each part is charged at its own price.
 */
export function costOf(price: Price, usage: Usage): number {
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage.prompt_tokens_details?.cache_creation_tokens ?? 0;
  const fresh = Math.max(0, usage.prompt_tokens - cached - written);
  return (fresh * price.input + cached * price.cachedInput + written * price.cacheWrite + usage.completion_tokens * price.output) / 1e6;
}
