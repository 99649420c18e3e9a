import type { Dialect } from "../providers/canonical.js";
import { dialectOf } from "../providers/dialect.js";
import type { OnUnsupported } from "../providers/unsupported.js";
import { VendorPath } from "../providers/rest/vendor-path.js";
import type { Target } from "../core/target.js";

/** `{model}` as it reads in a URL path once `new URL` has percent-encoded the braces. */
const MODEL_SLOT = "%7Bmodel%7D";

/**
 * How to address one target, worked out once from its config: the dialect it speaks, where a
 * `{model}` slot sits in its base path (Azure-style deployments), the fixed query it always
 * gets (extra `query` parameters, then a query-placed key), and a REST vendor's path rules.
 */
export class TargetPlan {
  readonly dialect: Dialect | undefined;
  readonly onUnsupported: OnUnsupported;
  /** The base path around its `{model}` slot, or null when it has none. */
  private readonly slot: readonly [string, string] | null;
  /** "a=1&key=…" appended to every upstream query ("" when none). */
  readonly fixedQuery: string;
  /** REST targets that rewrite paths or parameters; null otherwise. */
  readonly vendorPath: VendorPath | null;

  constructor(readonly target: Target) {
    const cfg = target.config;
    this.dialect = dialectOf(cfg.provider);
    this.onUnsupported = cfg.on_unsupported;
    const at = target.basePath.indexOf(MODEL_SLOT);
    this.slot = at === -1 ? null : [target.basePath.slice(0, at), target.basePath.slice(at + MODEL_SLOT.length)];
    let q = "";
    for (const name of Object.keys(cfg.query)) q += `${q === "" ? "" : "&"}${encodeURIComponent(name)}=${encodeURIComponent(cfg.query[name]!)}`;
    if (target.authQuery !== "") q += `${q === "" ? "" : "&"}${target.authQuery}`;
    this.fixedQuery = q;
    const vp = cfg.provider === "rest" ? new VendorPath(cfg.id, cfg.path, cfg.params) : null;
    this.vendorPath = vp !== null && vp.rewrites ? vp : null;
  }

  /** The base path for a model: the `{model}` slot filled, else the base path as is. */
  basePath(model: string): string {
    const s = this.slot;
    return s === null ? this.target.basePath : s[0] + encodeURIComponent(model) + s[1];
  }

  /** `path` (which may carry a query already) with the client's query and the fixed query appended. */
  withQuery(path: string, query: string): string {
    const fixed = this.fixedQuery;
    const all = query === "" ? fixed : fixed === "" ? query : `${query}&${fixed}`;
    if (all === "") return path;
    return `${path}${path.includes("?") ? "&" : "?"}${all}`;
  }
}

const plans = new WeakMap<Target, TargetPlan>();

/**
 * The target's plan, built on its first request and kept beside it (a Target is built by the
 * route, which does not know about translation; a WeakMap keeps this module's state its own).
 */
export function planOf(target: Target): TargetPlan {
  let p = plans.get(target);
  if (p === undefined) plans.set(target, (p = new TargetPlan(target)));
  return p;
}
