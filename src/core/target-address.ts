import { GatewayError } from "../errors.js";
import type { VendorPath } from "../providers/rest/vendor-path.js";

/** `{model}` as it reads in a URL path once `new URL` has percent-encoded the braces. */
const MODEL_SLOT = "%7Bmodel%7D";

/**
 * How to address one target, worked out once from its config and its provider's adapter: the
 * origin, the base path around its `{model}` slot (Azure deployments), the fixed query every
 * call carries (the adapter's defaults, the target's `query`, then a query-placed key), and a
 * REST vendor's path rules. Requests, health probes and key probes all build their URLs here,
 * so none of them can forget the api-version or leave `{model}` unfilled.
 */
export class TargetAddress {
  readonly origin: string;
  /** The base URL's path without trailing slash ("" for a bare origin), slot unfilled. */
  readonly basePath: string;
  /** The base path around its `{model}` slot, or null when it has none. */
  private readonly slot: readonly [string, string] | null;
  /** "a=1&key=…" appended to every upstream query ("" when none). */
  readonly fixedQuery: string;
  /** REST targets that rewrite paths or parameters; null otherwise. */
  readonly vendorPath: VendorPath | null;

  constructor(
    baseUrl: string,
    query: Readonly<Record<string, string>>,
    /** "name=value" of a key that travels in the query ("" otherwise). */
    keyQuery: string,
    vendorPath: VendorPath | null,
  ) {
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, "");
    const at = this.basePath.indexOf(MODEL_SLOT);
    this.slot = at === -1 ? null : [this.basePath.slice(0, at), this.basePath.slice(at + MODEL_SLOT.length)];
    let q = "";
    for (const name of Object.keys(query))
      q += `${q === "" ? "" : "&"}${encodeURIComponent(name)}=${encodeURIComponent(query[name] ?? "")}`;
    if (keyQuery !== "") q += `${q === "" ? "" : "&"}${keyQuery}`;
    this.fixedQuery = q;
    this.vendorPath = vendorPath !== null && vendorPath.rewrites ? vendorPath : null;
  }

  /** The base path for a model: the `{model}` slot filled, else the base path as is. */
  basePathFor(model: string): string {
    const s = this.slot;
    if (s === null) return this.basePath;
    // The client names the model: the slot must stay one segment ("/" is encoded; "." and ".." would climb).
    if (model === "." || model === "..")
      throw new GatewayError("invalid_request", `model: "${model}" cannot name a deployment`, { param: "model" });
    return s[0] + encodeURIComponent(model) + s[1];
  }

  /** `path` (which may carry a query already) with the client's query and the fixed query appended. */
  withQuery(path: string, query: string): string {
    const fixed = this.fixedQuery;
    const all = query === "" ? fixed : fixed === "" ? query : `${query}&${fixed}`;
    if (all === "") return path;
    return `${path}${path.includes("?") ? "&" : "?"}${all}`;
  }
}
