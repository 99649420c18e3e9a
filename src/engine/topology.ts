import type { Config } from "../config/schema.js";
import type { GatewayEvents, TopologyEvent } from "../core/events.js";
import { resolveTimeouts, type Target } from "../core/target.js";
import type { StateStore } from "../state/state-store.js";
import { Route } from "./route.js";
import { RouteTable } from "./route-table.js";

/**
 * What a new topology changed, by `route/target` id: what reload answers and logs. `removed`:
 * they take no new attempts, their calls in flight finish; `replaced`: same id, another base URL,
 * so a new upstream whose state starts fresh; `updated`: same id and base URL, another setting
 * (weight, key, limits…), breaker, stats, benches and disabled state kept.
 */
export type TopologyChange = TopologyEvent;

/**
 * One generation of the gateway's routes: the config they came from, the routes with their
 * targets and policies, and the table that finds them. The engine swaps a whole topology in one
 * assignment, so a request sees one generation from start to end: what it matched keeps serving
 * it (the old targets with their old keys) while new requests see the new one.
 *
 * A target keeps its identity across generations when its route, id and base URL are unchanged:
 * it shares its stats with its predecessor, and its policies find their state cells (breaker,
 * bench, disabled key) under the same keys. Any other target starts fresh, and the state of one
 * removed or re-pointed is dropped from the store.
 */
export class Topology {
  readonly routes: readonly Route[];
  readonly table: RouteTable;
  private readonly byName: Map<string, Route>;
  /** Targets of the previous generation this one removes or re-points. */
  private readonly leaving: readonly Leaving[];

  constructor(
    readonly config: Config,
    readonly version: number,
    events: GatewayEvents,
    store: StateStore,
    previous?: Topology,
  ) {
    // First: what is learnt of a target that leaves or is re-pointed must not reach its successor
    // (the new policies take their cells from the store as they are built).
    this.leaving = previous === undefined ? [] : leavingOf(previous, config);
    for (const l of this.leaving) store.forgetTarget(l.target.routeName, l.target.id);
    const defaults = resolveTimeouts(config.timeouts);
    this.routes = config.routes.map((r, i) => {
      return new Route(r, i, defaults, events, store, previous?.route(r.name));
    });
    this.table = new RouteTable(this.routes);
    this.byName = new Map(this.routes.map((r) => [r.name, r]));
  }

  route(name: string): Route | undefined {
    return this.byName.get(name);
  }

  /**
   * What changed from `previous` to this generation. Retires the targets that left or were
   * re-pointed: they take no new attempts (their state was dropped when this one was built).
   */
  diff(previous: Topology): TopologyChange {
    const added: string[] = [];
    const removed: string[] = [];
    const replaced: string[] = [];
    const updated: string[] = [];
    for (const route of this.routes) {
      const before = previous.route(route.name);
      for (const t of route.targets) {
        const old = before?.targets.find((o) => o.id === t.id);
        if (old === undefined) added.push(`${route.name}/${t.id}`);
        else if (old.config.base_url !== t.config.base_url) replaced.push(`${route.name}/${t.id}`);
        else if (JSON.stringify(old.config) !== JSON.stringify(t.config)) updated.push(`${route.name}/${t.id}`);
      }
    }
    // A kept target is not retired: its successor takes new requests, and old requests still in
    // flight may retry on it.
    for (const { target, removed: gone } of this.leaving) {
      target.retired = true;
      if (gone) removed.push(`${target.routeName}/${target.id}`);
    }
    return {
      version: this.version,
      added,
      removed,
      replaced,
      updated,
      routesAdded: this.routes.filter((r) => previous.route(r.name) === undefined).map((r) => r.name),
      routesRemoved: previous.routes.filter((r) => this.route(r.name) === undefined).map((r) => r.name),
    };
  }

  /** Upstream origins some target of this generation calls. */
  origins(): Set<string> {
    const out = new Set<string>();
    for (const r of this.routes) for (const t of r.targets) out.add(t.address.origin);
    return out;
  }
}

interface Leaving {
  readonly target: Target;
  /** Gone from its route; false: still there under the same id, with another base URL. */
  readonly removed: boolean;
}

/** The targets of `previous` that `config` removes or re-points (same route and id, another base URL). */
function leavingOf(previous: Topology, config: Config): Leaving[] {
  const out: Leaving[] = [];
  for (const before of previous.routes) {
    const route = config.routes.find((r) => r.name === before.name);
    for (const old of before.targets) {
      const next = route?.targets.find((t) => t.id === old.id);
      if (next === undefined || next.base_url !== old.config.base_url) out.push({ target: old, removed: next === undefined });
    }
  }
  return out;
}
