import type { Surface } from "../config/schema.js";
import type { Route } from "./route.js";

interface ModelTable {
  readonly byModel: Map<string, Route>;
  wildcard: Route | undefined;
}

/**
 * Finds the route for a request, built once at setup: LLM surfaces by (surface, prefix, model),
 * REST routes by mount path (longest first).
 */
export class RouteTable {
  private readonly llm = new Map<string, ModelTable>();
  /** REST mounts, longest first: "/rest/quotes", "/market". */
  readonly restMounts: { mount: string; route: Route }[] = [];
  /** Every distinct LLM prefix ("" = the plain paths), as configured (`/{tenant}/lb` too). */
  readonly llmPrefixes = new Set<string>();
  /** LLM routes by prefix, in config order (a prefix's balancer endpoints answer for them). */
  private readonly byPrefix = new Map<string, Route[]>();

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const prefix = route.config.prefix ?? "";
      if (route.surface === "rest") {
        const mount = route.config.prefix ?? `/rest/${route.config.service}`;
        this.restMounts.push({ mount, route });
        continue;
      }
      this.llmPrefixes.add(prefix);
      const under = this.byPrefix.get(prefix);
      if (under === undefined) this.byPrefix.set(prefix, [route]);
      else under.push(route);
      const key = `${route.surface}|${prefix}`;
      let table = this.llm.get(key);
      if (table === undefined) this.llm.set(key, (table = { byModel: new Map(), wildcard: undefined }));
      for (const m of route.config.models) {
        if (m === "*") table.wildcard ??= route;
        else table.byModel.set(m, route);
      }
    }
    this.restMounts.sort((a, b) => b.mount.length - a.mount.length);
  }

  forModel(surface: Surface, prefix: string, model: string): Route | undefined {
    const table = this.llm.get(`${surface}|${prefix}`);
    if (table === undefined) return undefined;
    return table.byModel.get(model) ?? table.wildcard;
  }

  /** The route serving any model ("*") on a surface under a prefix, if one does. */
  wildcard(surface: Surface, prefix: string): Route | undefined {
    return this.llm.get(`${surface}|${prefix}`)?.wildcard;
  }

  /** The LLM routes mounted under a prefix (every surface), in config order. */
  routesAt(prefix: string): readonly Route[] {
    return this.byPrefix.get(prefix) ?? [];
  }

  /** Model names configured on a surface under a prefix (for GET /v1/models). */
  models(surface: Surface, prefix: string): { id: string; route: string }[] {
    const table = this.llm.get(`${surface}|${prefix}`);
    if (table === undefined) return [];
    return [...table.byModel].map(([id, r]) => ({ id, route: r.name }));
  }

  /** The REST route mounted at the start of `path`, and the rest of the path after the mount. */
  forRestPath(path: string): { route: Route; subPath: string } | undefined {
    for (const { mount, route } of this.restMounts) {
      if (path.startsWith(mount) && (path.length === mount.length || path.charCodeAt(mount.length) === 47) /* / */)
        return { route, subPath: path.slice(mount.length) || "/" };
    }
    return undefined;
  }
}
