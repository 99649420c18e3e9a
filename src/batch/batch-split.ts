import type { Usage } from "../providers/canonical.js";
import { isRecord } from "../providers/errors.js";
import { usageFromOpenAI } from "../providers/openai/usage.js";
import { tokenCount } from "../providers/token-count.js";

/** One member's own answer, cut out of the batch's: the body it is sent and the usage it is charged. */
export interface Share {
  readonly body: string;
  readonly usage: Usage | null;
}

/**
 * Splits an OpenAI embeddings answer to a batched call back into its members' answers. Member k
 * asked for `counts[k]` inputs, placed after those of the members before it; it gets exactly
 * their embeddings, re-indexed from 0, every other field of the answer (object, model…) as it
 * came, and its part of the usage, apportioned by `weights` (each member's share of the input)
 * so that the parts add up to the batch's exactly.
 *
 * Returns why not, as text, when the answer cannot be split safely: not JSON, no `data` array,
 * not one embedding per input, an index out of range or given twice. Then nobody gets any of it.
 */
export function splitEmbeddings(text: string, counts: readonly number[], weights: readonly number[]): Share[] | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `not JSON (${text.length} bytes)`;
  }
  if (!isRecord(json) || !Array.isArray(json["data"])) return "no data array";
  const data = json["data"] as unknown[];
  let total = 0;
  for (const n of counts) total += n;
  if (data.length !== total) return `${data.length} embeddings for ${total} inputs`;
  // By index: an answer's items need not come in order.
  const ordered = new Array<Record<string, unknown> | undefined>(total);
  for (let i = 0; i < total; i++) {
    const item = data[i];
    if (!isRecord(item)) return `data[${i}] is not an object`;
    const at = item["index"] === undefined ? i : item["index"];
    if (typeof at !== "number" || !Number.isInteger(at) || at < 0 || at >= total || ordered[at] !== undefined)
      return `data[${i}] has a bad or repeated index`;
    ordered[at] = item;
  }
  const usage = json["usage"];
  const u = isRecord(usage) ? usage : null;
  const prompt = u === null ? null : apportion(Math.round(tokenCount(u["prompt_tokens"])), weights);
  const all = u === null ? null : apportion(Math.round(tokenCount(u["total_tokens"])), weights);
  const shares: Share[] = [];
  let offset = 0;
  for (let k = 0; k < counts.length; k++) {
    const n = counts[k] ?? 0;
    const items: Record<string, unknown>[] = [];
    for (let j = 0; j < n; j++) items.push({ ...ordered[offset + j], index: j });
    offset += n;
    const own = prompt === null || all === null ? null : { prompt_tokens: prompt[k] ?? 0, total_tokens: all[k] ?? 0 };
    // The answer's own fields in its own order, data and usage swapped for the member's.
    const out: Record<string, unknown> = {};
    for (const key in json) out[key] = key === "data" ? items : key === "usage" ? own : json[key];
    shares.push({ body: JSON.stringify(out), usage: own === null ? null : usageFromOpenAI(own) });
  }
  return shares;
}

/**
 * Splits a whole number `total` into parts proportional to `weights` that add up to `total`
 * exactly (largest remainder: each part is rounded down, the units left over go to the largest
 * remainders, the earlier member first on a tie). Weights that sum to 0 count as equal.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const n = weights.length;
  const parts = new Array<number>(n).fill(0);
  if (n === 0 || total <= 0) return parts;
  let sum = 0;
  for (const w of weights) sum += w > 0 ? w : 0;
  const weightOf = (i: number): number => (sum > 0 ? Math.max(0, weights[i] ?? 0) : 1);
  const of = sum > 0 ? sum : n;
  const remainders = new Array<number>(n);
  let given = 0;
  for (let i = 0; i < n; i++) {
    const exact = (total * weightOf(i)) / of;
    const part = Math.floor(exact);
    parts[i] = part;
    remainders[i] = exact - part;
    given += part;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (remainders[b] ?? 0) - (remainders[a] ?? 0) || a - b);
  for (let left = total - given, i = 0; left > 0; left--, i = (i + 1) % n) {
    const k = order[i] ?? 0;
    parts[k] = (parts[k] ?? 0) + 1;
  }
  return parts;
}
