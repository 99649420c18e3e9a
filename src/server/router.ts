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
  /** The balancer's management endpoints under an LLM prefix, for the routes mounted there. */
  | { readonly kind: "load_balancer"; readonly action: LoadBalancerAction; readonly prefix: string; readonly routes: readonly Route[] }
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

export type LoadBalancerAction = "status" | "config" | "reset";

/** The paths by method, and the methods by path (for 405s): no key string is built per request. */
class PathMap {
  private readonly byMethod = new Map<string, Map<string, Match>>();
  private readonly methodsOf = new Map<string, string[]>();

  add(method: string, path: string, match: Match): void {
    let paths = this.byMethod.get(method);
    if (paths === undefined) this.byMethod.set(method, (paths = new Map<string, Match>()));
    paths.set(path, match);
    const methods = this.methodsOf.get(path) ?? [];
    methods.push(method);
    this.methodsOf.set(path, methods);
  }

  has(path: string): boolean {
    return this.methodsOf.has(path);
  }

  get(method: string, path: string): Match | undefined {
    return this.byMethod.get(method)?.get(path);
  }

  methods(path: string): readonly string[] | undefined {
    return this.methodsOf.get(path);
  }
}

/**
 * An LLM prefix with `{name}` segments (`/{tenant}/lb`): its segments, and the paths under it
 * (relative to the prefix), compiled like the literal ones.
 */
interface WildPrefix {
  /** Each segment after the leading "/": a literal, or null for a `{name}` one. */
  readonly segments: readonly (string | null)[];
  readonly paths: PathMap;
  /** As configured: the route table's key for the routes under it. */
  readonly prefix: string;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const GEMINI = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const LB_ACTIONS: readonly (readonly [LoadBalancerAction, string])[] = [
  ["status", "GET"],
  ["config", "GET"],
  ["reset", "POST"],
];

/**
 * The request router, compiled once from the route table: exact paths in a Map per method,
 * then LLM prefixes with `{name}` segments, then operator paths with `{name}` segments, then the
 * Gemini model paths, then REST mounts. Static matches are shared objects (no allocation); a
 * path without wildcards is answered by the first Map lookup.
 *
 * Under each LLM prefix: /v1/chat/completions (and /chat/completions, as clients of the
 * multi-key balancer call it), /v1/embeddings, /v1/messages, the model lists, the Gemini model
 * paths, and the balancer's /v1/load-balancer/{status,config,reset} for the routes there.
 */
export class Router {
  private readonly paths = new PathMap();
  private readonly geminiPrefixes: string[];
  /** Fewest segments first, so a versioned path wins over /chat/completions under a longer prefix. */
  private readonly wild: WildPrefix[] = [];
  private readonly patterns: PathPattern[] = [];
  /** The literal start of each pattern (`/admin/routes/`): a path that starts with none is not split at all. */
  private readonly patternHeads: string[] = [];

  constructor(
    private readonly table: RouteTable,
    adminEnabled: boolean,
    operators: readonly OperatorEndpoint[] = [],
  ) {
    this.paths.add("GET", "/healthz", { kind: "healthz" });
    for (const e of operators) if (adminEnabled || !e.admin) this.addOperator(e);
    const prefixes = [...table.llmPrefixes].filter((p) => !p.includes("{"));
    if (!prefixes.includes("")) prefixes.push("");
    for (const p of prefixes) addLlmPaths(this.paths, p, p, table.routesAt(p), adminEnabled);
    // The unversioned chat path, where no versioned path already is (a prefix ending in /v1).
    for (const p of prefixes) addUnversioned(this.paths, p, p);
    this.geminiPrefixes = prefixes.sort((a, b) => b.length - a.length);
    for (const prefix of table.llmPrefixes) {
      if (!prefix.includes("{")) continue;
      const segments = prefix
        .split("/")
        .slice(1)
        .map((seg) => (seg.startsWith("{") ? null : seg));
      const paths = new PathMap();
      addLlmPaths(paths, "", prefix, table.routesAt(prefix), adminEnabled);
      addUnversioned(paths, "", prefix);
      this.wild.push({ segments, paths, prefix });
    }
    this.wild.sort((a, b) => a.segments.length - b.segments.length);
  }

  private addOperator(e: OperatorEndpoint): void {
    if (!e.path.includes("{")) {
      this.paths.add(e.method, e.path, { kind: "operator", endpoint: e, params: NO_PARAMS });
      return;
    }
    const parts = e.path.split("/");
    const segments = parts.map((p) => (p.startsWith("{") && p.endsWith("}") ? null : p));
    const key = segments.map((s) => s ?? "{}").join("/");
    let pattern = this.patterns.find((p) => p.segments.map((s) => s ?? "{}").join("/") === key);
    if (pattern === undefined) {
      pattern = { segments, names: parts.filter((p) => p.startsWith("{")).map((p) => p.slice(1, -1)), byMethod: new Map() };
      this.patterns.push(pattern);
      const head = e.path.slice(0, e.path.indexOf("{"));
      if (!this.patternHeads.includes(head)) this.patternHeads.push(head);
    }
    pattern.byMethod.set(e.method, e);
  }

  /** An operator path with `{name}` segments (few; only asked when no exact path matched). */
  private matchPattern(method: string, path: string): Match | undefined {
    let candidate = false;
    for (const h of this.patternHeads) if (path.startsWith(h)) candidate = true;
    if (!candidate) return undefined;
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
    const hit = this.paths.get(method, path);
    if (hit !== undefined) return hit;
    // Before the operator patterns (which split the path): the wildcard prefixes carry traffic.
    // An operator path never ends in an LLM path, so neither can take the other's paths.
    if (this.wild.length > 0) {
      const llm = this.matchWild(method, path);
      if (llm !== undefined) return llm;
    }
    const operator = this.matchPattern(method, path);
    if (operator !== undefined) return operator;
    // Only a Gemini path (…/v1beta/models/<model>:<method>) is worth the pattern.
    if (path.includes("/v1beta/models/"))
      for (const p of this.geminiPrefixes) {
        if (!path.startsWith(p)) continue;
        const m = matchGemini(method, p === "" ? path : path.slice(p.length), p);
        if (m !== undefined) return m;
      }
    const rest = this.table.forRestPath(path);
    if (rest !== undefined) return { kind: "rest", route: rest.route, subPath: rest.subPath };
    const surface = surfaceOfPath(path);
    const methods = this.paths.methods(path);
    if (methods !== undefined) return { kind: "method_not_allowed", surface, allow: methods.join(", ") };
    return { kind: "none", surface };
  }

  /** A path under an LLM prefix with `{name}` segments: the prefix is skipped, the rest looked up like a literal path. */
  private matchWild(method: string, path: string): Match | undefined {
    for (const w of this.wild) {
      const end = prefixEnd(w.segments, path);
      if (end === -1) continue;
      const rest = path.slice(end);
      const hit = w.paths.get(method, rest);
      if (hit !== undefined) return hit;
      if (rest.startsWith("/v1beta/models/")) {
        const m = matchGemini(method, rest, w.prefix);
        if (m !== undefined) return m;
      }
      const methods = w.paths.methods(rest);
      if (methods !== undefined) return { kind: "method_not_allowed", surface: surfaceOfPath(rest), allow: methods.join(", ") };
    }
    return undefined;
  }
}

/** The LLM paths under one prefix (`base` is what the paths start with: the prefix, or "" when matched after a wildcard prefix). */
function addLlmPaths(paths: PathMap, base: string, prefix: string, routes: readonly Route[], adminEnabled: boolean): void {
  paths.add("POST", `${base}/v1/chat/completions`, { kind: "llm", endpoint: ENDPOINTS.chat, prefix });
  paths.add("POST", `${base}/v1/embeddings`, { kind: "llm", endpoint: ENDPOINTS.embeddings, prefix });
  paths.add("GET", `${base}/v1/models`, { kind: "models", surface: "openai", prefix });
  paths.add("POST", `${base}/v1/messages`, { kind: "llm", endpoint: ENDPOINTS.messages, prefix });
  paths.add("GET", `${base}/v1beta/models`, { kind: "models", surface: "gemini", prefix });
  if (routes.length === 0) return;
  for (const [action, method] of LB_ACTIONS)
    if (action !== "reset" || adminEnabled)
      paths.add(method, `${base}/v1/load-balancer/${action}`, { kind: "load_balancer", action, prefix, routes });
}

/** `POST <prefix>/chat/completions`, served as `/v1/chat/completions`, unless that path is already a versioned one. */
function addUnversioned(paths: PathMap, base: string, prefix: string): void {
  const path = `${base}/chat/completions`;
  if (!paths.has(path)) paths.add("POST", path, { kind: "llm", endpoint: ENDPOINTS.chat, prefix });
}

/** A Gemini model path after its prefix, or undefined when it is not one. */
function matchGemini(method: string, rest: string, prefix: string): Match | undefined {
  const m = GEMINI.exec(rest);
  const model = m?.[1];
  if (m === null || model === undefined) return undefined;
  if (method !== "POST") return { kind: "method_not_allowed", surface: "gemini", allow: "POST" };
  const name = decode(model);
  if (name === null) return MALFORMED_GEMINI;
  return { kind: "gemini", endpoint: m[2] === "generateContent" ? ENDPOINTS.generate : ENDPOINTS.stream_generate, prefix, model: name };
}

/**
 * Where the part after a wildcard prefix starts in `path`, or -1 when the path is not under it
 * (literal segments equal, `{name}` segments not empty, something after). Walks the string: no
 * split, no allocation.
 */
function prefixEnd(segments: readonly (string | null)[], path: string): number {
  let pos = 0;
  for (const seg of segments) {
    if (path.charCodeAt(pos) !== 47 /* / */) return -1;
    const end = path.indexOf("/", pos + 1);
    if (end === -1) return -1;
    if (seg === null ? end === pos + 1 : end - pos - 1 !== seg.length || !path.startsWith(seg, pos + 1)) return -1;
    pos = end;
  }
  return pos;
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
