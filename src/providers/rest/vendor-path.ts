import { GatewayError, UnsupportedFieldError } from "../../errors.js";

/**
 * A REST vendor's own request shape: its path (a template filled from the client's query
 * parameters, or a map from the client's sub-path to a template) and its parameter names.
 * Compiled once per target; a request only fills slots and renames keys.
 *
 *   client  GET /rest/quotes/quote?symbol=IBM&range=1d
 *   target  path: /v2/quote/{symbol}   params: {range: interval}
 *   vendor  GET <base_url>/v2/quote/IBM?interval=1d
 */
export class VendorPath {
  private readonly template: PathTemplate | null;
  private readonly byPath: Map<string, PathTemplate> | null;
  private readonly renames: Map<string, string> | null;

  constructor(
    private readonly targetId: string,
    path: string | Readonly<Record<string, string>> | undefined,
    params: Readonly<Record<string, string>> | undefined,
  ) {
    this.template = typeof path === "string" ? new PathTemplate(path) : null;
    this.byPath =
      path !== undefined && typeof path !== "string" ? new Map(Object.entries(path).map(([k, v]) => [k, new PathTemplate(v)])) : null;
    this.renames = params !== undefined && Object.keys(params).length > 0 ? new Map(Object.entries(params)) : null;
  }

  /** Whether this target rewrites anything (else the client's path and query go as they are). */
  get rewrites(): boolean {
    return this.template !== null || this.byPath !== null || this.renames !== null;
  }

  /**
   * The vendor's path and query (without "?") for a client sub-path and raw query. Throws
   * UnsupportedFieldError when this vendor cannot serve the call (no path for that sub-path, a
   * placeholder whose parameter is missing): the target is skipped, another vendor may serve it.
   */
  build(subPath: string, rawQuery: string): { path: string; query: string } {
    let tpl: PathTemplate | null | undefined = this.template;
    if (this.byPath !== null) {
      tpl = this.byPath.get(subPath);
      if (tpl === undefined)
        throw new UnsupportedFieldError("path", "rest", `target ${this.targetId} has no vendor path for ${subPath.slice(0, 200)}`);
    }
    const params = new URLSearchParams(rawQuery);
    const path = tpl === null ? subPath : tpl.fill(params, this.targetId);
    let query = "";
    for (const [name, value] of params) {
      const vendorName = this.renames?.get(name) ?? name;
      query += `${query === "" ? "" : "&"}${encodeURIComponent(vendorName)}=${encodeURIComponent(value)}`;
    }
    return { path, query };
  }
}

/** `/v2/quote/{symbol}` split once into literals and slot names. */
class PathTemplate {
  /** Literal, slot, literal, slot, …, literal (odd indexes are slot names). */
  private readonly pieces: string[];

  constructor(template: string) {
    this.pieces = template.split(/\{([^{}]+)\}/);
  }

  /** Fills each slot from the parameter of that name and removes the parameter from the query. */
  fill(params: URLSearchParams, targetId: string): string {
    const pieces = this.pieces;
    // split() with one capture group gives literal, slot, …, literal: an odd count, never empty.
    let out = pieces[0] ?? "";
    for (let i = 1; i < pieces.length; i += 2) {
      const name = pieces[i];
      if (name === undefined) continue;
      const value = params.get(name);
      if (value === null || value === "")
        throw new UnsupportedFieldError(name, "rest", `target ${targetId}'s path needs the query parameter ${name}`);
      // A filled slot must stay one path segment: "/" is encoded, and "." / ".." would climb.
      if (value === "." || value === "..")
        throw new GatewayError("invalid_request", `${name}: "${value}" is not allowed in a path`, { param: name });
      out += encodeURIComponent(value) + (pieces[i + 1] ?? "");
    }
    for (let i = 1; i < pieces.length; i += 2) {
      const name = pieces[i];
      if (name !== undefined) params.delete(name);
    }
    return out;
  }
}
