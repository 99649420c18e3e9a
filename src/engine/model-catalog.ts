import type { Surface } from "../config/schema.js";
import type { Target } from "../core/target.js";
import { sendProbe } from "../resilience/probe.js";
import type { RouteTable } from "./route-table.js";

/** How long a target's model list is kept; a failed fetch is retried sooner. */
const TTL_MS = 60_000;
const FAILED_TTL_MS = 5_000;
const FETCH_TIMEOUT_MS = 3_000;

export interface ListedModel {
  readonly id: string;
  /** The route that serves it. */
  readonly route: string;
}

interface CachedList {
  readonly ids: readonly string[];
  readonly until: number;
}

/**
 * What GET /v1/models lists on a surface: the model names the routes configure, then, for a
 * route that serves any model ("*"), its targets' own models: a target's `model` when it names
 * one, else the list its provider's cheap call returns (fetched with the target's key, cached).
 */
export class ModelCatalog {
  private readonly cache = new WeakMap<Target, CachedList>();
  private readonly fetching = new WeakMap<Target, Promise<readonly string[]>>();

  /** The route table now (a reload replaces it). */
  constructor(private readonly table: () => RouteTable) {}

  async list(surface: Surface, prefix: string): Promise<ListedModel[]> {
    const table = this.table();
    const out = table.models(surface, prefix);
    const wildcard = table.wildcard(surface, prefix);
    if (wildcard === undefined) return out;
    const seen = new Set(out.map((m) => m.id));
    const lists = await Promise.all(wildcard.targets.map((t) => this.modelsOf(t)));
    for (const ids of lists)
      for (const id of ids) {
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ id, route: wildcard.name });
      }
    return out;
  }

  private modelsOf(t: Target): Promise<readonly string[]> {
    if (t.model !== undefined) return Promise.resolve([t.model]);
    if (t.wire === "rest") return Promise.resolve([]);
    const cached = this.cache.get(t);
    if (cached !== undefined && cached.until > Date.now()) return Promise.resolve(cached.ids);
    let p = this.fetching.get(t);
    if (p === undefined) {
      p = this.fetch(t).finally(() => this.fetching.delete(t));
      this.fetching.set(t, p);
    }
    return p;
  }

  private async fetch(t: Target): Promise<readonly string[]> {
    const r = await sendProbe(t, { timeoutMs: FETCH_TIMEOUT_MS });
    let ids: string[] = [];
    if (r.status >= 200 && r.status < 300) {
      try {
        ids = t.adapter.models(JSON.parse(r.body));
      } catch {
        ids = [];
      }
    }
    this.cache.set(t, { ids, until: Date.now() + (ids.length > 0 ? TTL_MS : FAILED_TTL_MS) });
    return ids;
  }
}
