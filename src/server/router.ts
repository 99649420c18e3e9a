import type { Surface } from "../config/schema.js";
import { ENDPOINTS, type Endpoint } from "../core/endpoint.js";
import type { RouteTable } from "../engine/route-table.js";
import type { Route } from "../engine/route.js";
import type { OperatorEndpoint } from "../core/operator-endpoint.js";

export type Match =
  | { readonly kind: "healthz" }
  | { readonly kind: "operator"; readonly endpoint: OperatorEndpoint; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: "models"; readonly surface: Surface; readonly prefix: string }
  | { readonly kind: "llm"; readonly endpoint: Endpoint; readonly prefix: string }
  | { readonly kind: "gemini"; readonly endpoint: Endpoint; readonly prefix: string; readonly model: string }
  | { readonly kind: "rest"; readonly route: Route; readonly subPath: string }
  | { readonly kind: "method_not_allowed"; readonly surface: Surface; readonly allow: string }
  | { readonly kind: "none"; readonly surface: Surface }
  | { readonly kind: "malformed"; readonly surface: Surface; readonly detail: string };

/** An operator path with `{name}` segments, split once. */
interface PathPattern {
  /** Each segment: a literal, or null for a `{name}` one. */
  readonly segments: readonly (string | null)[];
  readonly names: readonly string[];
  readonly byMethod: Map<string, OperatorEndpoint>;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const GEMINI = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

/**
 * The request router, compiled once from the route table: exact paths in a Map per method,
 * then the Gemini model paths, then REST mounts. Static matches are shared objects (no allocation).
 */
export class Router {
  /** method → path → match: no key string is built per request. */
  private readonly exact = new Map<string, Map<string, Match>>();
  private readonly pathMethods = new Map<string, string[]>();
  private readonly geminiPrefixes: string[];
  private readonly patterns: PathPattern[] = [];

  constructor(
    private readonly table: RouteTable,
    adminEnabled: boolean,
    operators: readonly OperatorEndpoint[] = [],
  ) {
    this.add("GET", "/healthz", { kind: "healthz" });
    for (const e of operators) if (adminEnabled || !e.admin) this.addOperator(e);
    const prefixes = [...table.llmPrefixes];
    if (!prefixes.includes("")) prefixes.push("");
    for (const p of prefixes) {
      this.add("POST", `${p}/v1/chat/completions`, { kind: "llm", endpoint: ENDPOINTS.chat, prefix: p });
      this.add("POST", `${p}/v1/embeddings`, { kind: "llm", endpoint: ENDPOINTS.embeddings, prefix: p });
      this.add("GET", `${p}/v1/models`, { kind: "models", surface: "openai", prefix: p });
      this.add("POST", `${p}/v1/messages`, { kind: "llm", endpoint: ENDPOINTS.messages, prefix: p });
      this.add("GET", `${p}/v1beta/models`, { kind: "models", surface: "gemini", prefix: p });
    }
    this.geminiPrefixes = prefixes.sort((a, b) => b.length - a.length);
  }

  private add(method: string, path: string, match: Match): void {
    let paths = this.exact.get(method);
    if (paths === undefined) this.exact.set(method, (paths = new Map<string, Match>()));
    paths.set(path, match);
    const methods = this.pathMethods.get(path) ?? [];
    methods.push(method);
    this.pathMethods.set(path, methods);
  }

  private addOperator(e: OperatorEndpoint): void {
    if (!e.path.includes("{")) {
      this.add(e.method, e.path, { kind: "operator", endpoint: e, params: NO_PARAMS });
      return;
    }
    const parts = e.path.split("/");
    const segments = parts.map((p) => (p.startsWith("{") && p.endsWith("}") ? null : p));
    const key = segments.map((s) => s ?? "{}").join("/");
    let pattern = this.patterns.find((p) => p.segments.map((s) => s ?? "{}").join("/") === key);
    if (pattern === undefined) {
      pattern = { segments, names: parts.filter((p) => p.startsWith("{")).map((p) => p.slice(1, -1)), byMethod: new Map() };
      this.patterns.push(pattern);
    }
    pattern.byMethod.set(e.method, e);
  }

  /** An operator path with `{name}` segments (few; only asked when no exact path matched). */
  private matchPattern(method: string, path: string): Match | undefined {
    if (this.patterns.length === 0) return undefined;
    const parts = path.split("/");
    let allow: string[] | undefined;
    for (const p of this.patterns) {
      if (p.segments.length !== parts.length || !fits(p, parts)) continue;
      const endpoint = p.byMethod.get(method);
      if (endpoint === undefined) {
        (allow ??= []).push(...p.byMethod.keys());
        continue;
      }
      const params: Record<string, string> = {};
      let n = 0;
      for (let i = 0; i < parts.length; i++) {
        if (p.segments[i] !== null) continue;
        const v = decode(parts[i] as string);
        if (v === null) return MALFORMED_ADMIN;
        params[p.names[n++] as string] = v;
      }
      return { kind: "operator", endpoint, params };
    }
    return allow === undefined ? undefined : { kind: "method_not_allowed", surface: "rest", allow: [...new Set(allow)].join(", ") };
  }

  match(method: string, path: string): Match {
    const hit = this.exact.get(method)?.get(path);
    if (hit !== undefined) return hit;
    const operator = this.matchPattern(method, path);
    if (operator !== undefined) return operator;
    // Only a Gemini path (…/v1beta/models/<model>:<method>) is worth the pattern.
    if (path.includes("/v1beta/models/"))
      for (const p of this.geminiPrefixes) {
        if (!path.startsWith(p)) continue;
        const m = GEMINI.exec(p === "" ? path : path.slice(p.length));
        const model = m?.[1];
        if (m === null || model === undefined) continue;
        if (method !== "POST") return { kind: "method_not_allowed", surface: "gemini", allow: "POST" };
        const name = decode(model);
        if (name === null) return MALFORMED_GEMINI;
        return {
          kind: "gemini",
          endpoint: m[2] === "generateContent" ? ENDPOINTS.generate : ENDPOINTS.stream_generate,
          prefix: p,
          model: name,
        };
      }
    const rest = this.table.forRestPath(path);
    if (rest !== undefined) return { kind: "rest", route: rest.route, subPath: rest.subPath };
    const surface = surfaceOfPath(path);
    const methods = this.pathMethods.get(path);
    if (methods !== undefined) return { kind: "method_not_allowed", surface, allow: methods.join(", ") };
    return { kind: "none", surface };
  }
}

/** Do a path's segments fit a pattern's (literals equal, `{name}` segments not empty)? */
function fits(p: PathPattern, parts: readonly string[]): boolean {
  for (let i = 0; i < parts.length; i++) {
    const want = p.segments[i];
    const got = parts[i] as string;
    if (want === null ? got === "" : want !== got) return false;
  }
  return true;
}

/** Best guess of the client's dialect from a path, for errors on paths no route serves. */
export function surfaceOfPath(path: string): Surface {
  if (path.includes("/v1beta/")) return "gemini";
  if (path.endsWith("/v1/messages")) return "anthropic";
  if (path.startsWith("/rest/")) return "rest";
  return "openai";
}

const MALFORMED_ADMIN: Match = { kind: "malformed", surface: "rest", detail: "the path has a malformed percent-escape" };
const MALFORMED_GEMINI: Match = { kind: "malformed", surface: "gemini", detail: "the model in the path has a malformed percent-escape" };

/** A path segment decoded, or null when its percent-escapes are malformed (`%E0`): a client error, not a crash. */
function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
