import { z } from "zod";
import type { Candidate, PickContext, Strategy } from "./strategy.js";
import { parseOptions, positiveInt } from "./options.js";
import { hash32 } from "./hash.js";

const keySource = z.string({ error: "must be a string" }).regex(/^(header:[A-Za-z0-9!#$%&'*+.^_`|~-]+|body:[A-Za-z0-9_.-]+|client)$/, {
  error: 'must be "header:<name>", "body:<field>" or "client"',
});

const optionsSchema = z
  .object({
    /** Where the session key comes from, first found wins. "client" = the caller's own credential. */
    key: z
      .array(keySource, { error: "must be a list" })
      .min(1, { error: "must list at least one source" })
      .default(["header:x-session-id", "body:user"]),
    /** Ring points per unit of weight: more points, more even shares. */
    vnodes: positiveInt().default(160),
  })
  .strict();

const KIND_HEADER = 0;
const KIND_BODY = 1;
const KIND_CLIENT = 2;

/**
 * Consistent hashing on a request key (ketama-style ring with virtual nodes), so one conversation
 * keeps landing on the same target while it is eligible and the provider's prompt cache keeps
 * hitting. Points are hashed from target ids, not positions, so the ring is the same across
 * restarts and processes. An ineligible target's points are skipped (the next point clockwise
 * takes the key), which moves only that target's keys — and moves them back when it returns.
 * Undecided when the request carries no key, so the route's fallback_strategy takes it.
 *
 * Pick: hash the key (no allocation), binary search the sorted points, walk to the first point
 * whose target is eligible in this pick (eligibility marked by an epoch stamp per pool index).
 */
export class Sticky<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "sticky";
  readonly keepsAffinity = true;
  private readonly points: Uint32Array;
  /** Pool index owning each point. */
  private readonly owners: Int32Array;
  private readonly mark: Uint32Array;
  private readonly byIndex: (T | undefined)[];
  private readonly sourceKinds: Uint8Array;
  private readonly sourceNames: string[];
  /** Share of the ring each target owns (for status). */
  private readonly share: Float64Array;
  private epoch = 0;
  private keyless = 0;

  constructor(
    pool: readonly T[],
    private readonly sources: readonly string[],
    private readonly vnodes: number,
  ) {
    const entries: { point: number; owner: number }[] = [];
    for (const t of pool) {
      const count = Math.max(1, Math.round(vnodes * t.weight));
      for (let v = 0; v < count; v++) entries.push({ point: hash32(`${t.id}#${v}`), owner: t.index });
    }
    // Ties on a point (rare) resolve by id order so every process builds the same ring.
    entries.sort((a, b) => a.point - b.point || idOf(pool, a.owner).localeCompare(idOf(pool, b.owner)));
    this.points = Uint32Array.from(entries, (e) => e.point);
    this.owners = Int32Array.from(entries, (e) => e.owner);
    this.mark = new Uint32Array(pool.length);
    this.byIndex = new Array<T | undefined>(pool.length).fill(undefined);
    this.share = new Float64Array(pool.length);
    const m = entries.length;
    for (let i = 0; i < m; i++) {
      const point = this.points[i] ?? 0;
      const prev = i === 0 ? (this.points[m - 1] ?? 0) - 0x100000000 : (this.points[i - 1] ?? 0);
      const owner = this.owners[i] ?? 0;
      this.share[owner] = (this.share[owner] ?? 0) + (point - prev) / 0x100000000;
    }
    this.sourceKinds = Uint8Array.from(sources, (s) =>
      s.startsWith("header:") ? KIND_HEADER : s.startsWith("body:") ? KIND_BODY : KIND_CLIENT,
    );
    this.sourceNames = sources.map((s) => (s.startsWith("header:") ? s.slice(7).toLowerCase() : s.startsWith("body:") ? s.slice(5) : ""));
  }

  pick(eligible: readonly T[], ctx: PickContext): T | undefined {
    const n = eligible.length;
    if (n === 0) return undefined;
    const key = this.keyOf(ctx);
    if (key === "") {
      this.keyless++;
      return undefined;
    }
    if (n === 1) return eligible[0];
    const epoch = (this.epoch = (this.epoch + 1) >>> 0 || 1);
    for (let i = 0; i < n; i++) {
      const t = eligible[i];
      if (t === undefined) continue;
      this.mark[t.index] = epoch;
      this.byIndex[t.index] = t;
    }
    const points = this.points;
    const h = hash32(key);
    // First point >= h, wrapping to 0.
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] ?? 0) < h) lo = mid + 1;
      else hi = mid;
    }
    const m = points.length;
    for (let j = 0; j < m; j++) {
      let p = lo + j;
      if (p >= m) p -= m;
      const owner = this.owners[p];
      if (owner !== undefined && this.mark[owner] === epoch) return this.byIndex[owner];
    }
    return undefined; // unreachable: every eligible target owns points
  }

  /** The request's session key from the configured sources, "" when it has none. */
  keyOf(ctx: PickContext): string {
    for (let i = 0; i < this.sourceKinds.length; i++) {
      const kind = this.sourceKinds[i];
      if (kind === KIND_HEADER) {
        const name = this.sourceNames[i]; // built from the same sources as sourceKinds
        if (name === undefined) continue;
        const v = ctx.headers[name];
        if (typeof v === "string" && v !== "") return v;
      } else if (kind === KIND_BODY) {
        const name = this.sourceNames[i];
        if (name === undefined) continue;
        const v = ctx.json?.[name];
        if (typeof v === "string" && v !== "") return v;
      } else {
        const auth = ctx.headers["authorization"] ?? ctx.headers["x-api-key"];
        if (typeof auth === "string" && auth !== "") return auth;
      }
    }
    return "";
  }

  status(): Record<string, unknown> {
    return { key: this.sources, vnodes: this.vnodes, ring_points: this.points.length, keyless_requests: this.keyless };
  }

  targetStatus(target: T): Record<string, unknown> {
    return { ring_share: Math.round((this.share[target.index] ?? 0) * 10000) / 10000 };
  }
}

/** The id of the pool target at `index`; ring entries are built from the pool, so it exists. */
function idOf(pool: readonly Candidate[], index: number): string {
  const t = pool[index];
  if (t === undefined) throw new Error(`sticky: ring point owner ${index} is not in the pool`);
  return t.id;
}

export function createSticky<T extends Candidate>(pool: readonly T[], options: Record<string, unknown>): Strategy<T> {
  const o = parseOptions("sticky", optionsSchema, options);
  return new Sticky(pool, o.key, o.vnodes);
}
