import type { RequestContext } from "../core/request-context.js";
import type { Engine } from "../engine/engine.js";
import type { Route } from "../engine/route.js";
import type { Admitted, AdmissionStep } from "../pipeline/admission.js";
import type { Gateway } from "../pipeline/gateway.js";
import { BatchCounts, EmbeddingBatch } from "./embedding-batch.js";

/** One route's batching in `GET /admin/status`. */
export interface RouteBatchingStatus {
  window_ms: number | null;
  max_size: number | null;
  eligible: number;
  batched: number;
  batches: number;
  fallbacks: number;
  /** batched / eligible (0 before any eligible request). */
  rate: number;
}

/** One EmbeddingBatcher per gateway: installed by createGateway, found again for status and metrics. */
const INSTALLED = new WeakMap<Gateway, EmbeddingBatcher>();

/**
 * Batching of embedding requests (`routes[].batching`), as an admission step. A request is
 * eligible when it is an embeddings call (OpenAI surface) to a route with batching and its
 * `input` is a string or an array of strings (none empty); token-id arrays and anything else go
 * their own way untouched. Eligible requests are grouped by route, model and every other body
 * field (encoding_format, dimensions, user…) and by their `openai-*` headers: requests that differ
 * there never share a call. A group is sent when its window (from its first request) ends or it
 * holds `max_size` inputs; a request whose inputs would overflow it sends it and starts the next,
 * and one with `max_size` inputs or more goes alone. See EmbeddingBatch for what a sent group does.
 *
 * Installed after the client keys, budgets and inbound limits (each member is admitted on its own
 * first), and only on a gateway where some route batches: otherwise there is no step at all.
 */
export class EmbeddingBatcher implements AdmissionStep {
  readonly name = "batching";
  /** The group open now for each grouping key. */
  private readonly open = new Map<string, EmbeddingBatch>();
  private readonly counts = new Map<string, BatchCounts>();

  constructor(private readonly engine: Engine) {}

  /**
   * Installs the gateway's batcher as its next admission step when some route has `batching`;
   * otherwise waits for a config change (reload, admin change) that adds one. Returns it, if installed.
   */
  static install(gateway: Gateway): EmbeddingBatcher | undefined {
    const installed = INSTALLED.get(gateway);
    if (installed !== undefined) return installed;
    if (!gateway.routes.some((r) => r.config.batching !== undefined)) {
      let waiting = true;
      gateway.events.onTopology(() => {
        if (waiting && gateway.routes.some((r) => r.config.batching !== undefined)) {
          waiting = false;
          EmbeddingBatcher.install(gateway);
        }
      });
      return undefined;
    }
    const b = new EmbeddingBatcher(gateway.engine);
    INSTALLED.set(gateway, b);
    gateway.use(b);
    return b;
  }

  /** The gateway's batcher, when one is installed. */
  static of(gateway: Gateway): EmbeddingBatcher | undefined {
    return INSTALLED.get(gateway);
  }

  admit(ctx: RequestContext, route: Route): Admitted | Promise<Admitted> {
    if (ctx.endpoint.kind !== "embeddings") return;
    const cfg = route.config.batching;
    const json = ctx.json;
    if (cfg === undefined || json === undefined || ctx.stream) return;
    const inputs = stringInputs(json["input"]);
    if (inputs === null) return;
    const counts = this.countsOf(route.name);
    counts.eligible++;
    const n = inputs.length;
    if (n >= cfg.max_size) return;
    const key = groupKey(route.name, ctx, json);
    let batch = this.open.get(key);
    if (batch !== undefined && (batch.route !== route || batch.size + n > cfg.max_size)) {
      // Full for this request (or of a previous generation of the route): it goes now, this one starts the next.
      this.close(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = new EmbeddingBatch(key, route, counts, this.engine);
      this.open.set(key, batch);
      batch.timer = setTimeout(onWindowEnd, cfg.window_ms, this, batch);
    }
    let weight = 0;
    for (const s of inputs) weight += s.length;
    const answer = batch.add(ctx, inputs, weight);
    if (batch.size >= cfg.max_size) this.close(batch);
    return answer;
  }

  /** Sends a group: no request joins it any more. */
  close(batch: EmbeddingBatch): void {
    if (this.open.get(batch.key) === batch) this.open.delete(batch.key);
    batch.send();
  }

  /** Each route's counts (metrics read them at scrape time). */
  get routeCounts(): ReadonlyMap<string, BatchCounts> {
    return this.counts;
  }

  /** Every route that batches now or did: its settings and counts (for /admin/status). */
  status(): { routes: Record<string, RouteBatchingStatus> } {
    const routes: Record<string, RouteBatchingStatus> = {};
    const configured = new Map(this.engine.routes.map((r) => [r.name, r.config.batching] as const));
    const names = new Set([...[...configured].filter(([, b]) => b !== undefined).map(([n]) => n), ...this.counts.keys()]);
    for (const name of names) {
      const cfg = configured.get(name);
      const c = this.counts.get(name) ?? new BatchCounts();
      routes[name] = {
        window_ms: cfg?.window_ms ?? null,
        max_size: cfg?.max_size ?? null,
        eligible: c.eligible,
        batched: c.batched,
        batches: c.batches,
        fallbacks: c.fallbacks,
        rate: c.eligible === 0 ? 0 : c.batched / c.eligible,
      };
    }
    return { routes };
  }

  private countsOf(route: string): BatchCounts {
    let c = this.counts.get(route);
    if (c === undefined) this.counts.set(route, (c = new BatchCounts()));
    return c;
  }
}

function onWindowEnd(batcher: EmbeddingBatcher, batch: EmbeddingBatch): void {
  batch.timer = undefined;
  batcher.close(batch);
}

/** The inputs of a batchable request: a non-empty string, or a non-empty array of them; else null. */
function stringInputs(input: unknown): readonly string[] | null {
  if (typeof input === "string") return input.length > 0 ? [input] : null;
  if (!Array.isArray(input) || input.length === 0) return null;
  for (const s of input) if (typeof s !== "string" || s.length === 0) return null;
  return input as string[];
}

/**
 * What requests must share to be batched: route, model, every body field but `input` (sorted by
 * name, so the order a client wrote them in does not matter) and the `openai-*` headers, which
 * go upstream with the batch.
 */
function groupKey(route: string, ctx: RequestContext, json: Record<string, unknown>): string {
  let key = `${route}\u0000${ctx.model}`;
  for (const name of Object.keys(json).sort()) if (name !== "input") key += `\u0000${name}=${JSON.stringify(json[name])}`;
  const headers = ctx.headers;
  for (const name in headers) if (name.startsWith("openai-")) key += `\u0001${name}=${String(headers[name])}`;
  return key;
}
