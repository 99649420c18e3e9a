import type { Surface } from "../config/schema.js";
import type { RequestContext } from "../core/request-context.js";
import type { Route } from "../engine/route.js";
import { GatewayError } from "../errors.js";
import type { AdmissionStep } from "../pipeline/admission.js";
import type { Gateway } from "../pipeline/gateway.js";
import type { GateStep } from "../pipeline/pipeline.js";
import { type ClientKey, ClientKeyRegistry } from "./client-keys.js";
import type { KeyStoreLike } from "./key-store.js";

/**
 * Client keys on a gateway, for both fronts (HTTP and library go through its pipeline):
 *
 *   gate       (before the body is read)  which key? none or unknown → 401; disabled or expired → 403
 *   admission  (route and model known)    may it use this route and model? → else 403; its priority
 *
 * Returns the registry, for the admin API (keysEndpoints) and the steps that read a key's limits
 * and budget by the name the gate put in `ctx.clientKey`.
 */
export function installClientKeys(gateway: Gateway, store?: KeyStoreLike): ClientKeyRegistry {
  const keys = new ClientKeyRegistry(gateway, store);
  gateway.pipeline.useGate(new ClientKeyGate(keys));
  gateway.use(new ClientKeyScope(keys));
  return keys;
}

/** How each dialect's SDK sends its key, for the message of a request that sent none. */
const HOW: Record<Surface, string> = {
  openai: "Authorization: Bearer <key>",
  anthropic: "x-api-key: <key> (or Authorization: Bearer <key>)",
  gemini: "x-goog-api-key: <key> (or ?key=<key>)",
  rest: "Authorization: Bearer <key> (or x-api-key: <key>)",
};
const CHALLENGE = { "www-authenticate": 'Bearer realm="switchyard"' };
const SURFACES: Surface[] = ["openai", "anthropic", "gemini", "rest"];
/** The two refusals that name nothing of the request: made once per surface, thrown as they are. */
const MISSING = byS((s) => new GatewayError("unauthorized", `a client key is required: send it as ${HOW[s]}`, { headers: CHALLENGE }));
const UNKNOWN = byS(() => new GatewayError("unauthorized", "the client key sent is not valid", { headers: CHALLENGE }));

/**
 * Finds the request's client key where each SDK sends it: `Authorization: Bearer` (OpenAI,
 * Anthropic's authToken), `x-api-key` (Anthropic), `x-goog-api-key` and, on the Gemini surface
 * only, `?key=` (Gemini; never forwarded upstream, see exchange/upstream-request.ts). The first
 * one sent that is a known key wins. Runs before the body is read: a client without a valid key
 * learns nothing of the routes and models.
 */
export class ClientKeyGate implements GateStep {
  readonly name = "client_keys";

  constructor(private readonly keys: ClientKeyRegistry) {}

  check(ctx: RequestContext): void {
    const keys = this.keys;
    if (!keys.enabled) return;
    const h = ctx.headers;
    let sent = false;
    let key: ClientKey | undefined;
    const bearer = bearerToken(h.authorization);
    if (bearer !== "") {
      sent = true;
      key = keys.find(bearer);
    }
    if (key === undefined) {
      const k = first(h["x-api-key"]);
      if (k !== "") {
        sent = true;
        key = keys.find(k);
      }
    }
    if (key === undefined) {
      const k = first(h["x-goog-api-key"]);
      if (k !== "") {
        sent = true;
        key = keys.find(k);
      }
    }
    if (key === undefined && ctx.surface === "gemini") {
      const k = queryKey(ctx.query);
      if (k !== "") {
        sent = true;
        key = keys.find(k);
      }
    }
    if (key === undefined) throw (sent ? UNKNOWN : MISSING)[ctx.surface];
    // Known, even if refused below: the access log and metrics say whose request it was.
    ctx.clientKey = key.name;
    if (key.disabled) throw new GatewayError("forbidden", `client key "${key.name}" is disabled`);
    if (key.expiresAt !== Infinity && key.expiresAt <= Date.now())
      throw new GatewayError("forbidden", `client key "${key.name}" expired at ${new Date(key.expiresAt).toISOString()}`);
  }
}

/**
 * Once the route and model are known: the key's `routes` and `models` (403 naming what is not
 * allowed), and its priority for the route's queue when the request did not name its own (the
 * route's priority header).
 */
export class ClientKeyScope implements AdmissionStep {
  readonly name = "client_key_scope";

  constructor(private readonly keys: ClientKeyRegistry) {}

  admit(ctx: RequestContext, route: Route): void {
    const name = ctx.clientKey;
    if (name === "") return;
    const key = this.keys.named(name);
    // Deleted while its request was being read.
    if (key === undefined) throw UNKNOWN[ctx.surface];
    if (key.routes !== null && !key.routes.has(route.name))
      throw new GatewayError("forbidden", `client key "${name}" may not use route "${route.name}"`);
    if (key.models !== null && ctx.model !== "" && !key.models.has(ctx.model))
      throw new GatewayError("forbidden", `client key "${name}" may not use model "${ctx.model.slice(0, 200)}"`, { param: "model" });
    const priority = key.priority;
    if (priority !== undefined && ctx.headers[route.policies.queueConfig.priority_header] === undefined) ctx.priority = priority;
  }
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or "". */
function bearerToken(h: string | undefined): string {
  if (h === undefined || h.length < 8) return "";
  if (h.charCodeAt(6) !== 32 || h.slice(0, 6).toLowerCase() !== "bearer") return "";
  return h.slice(7).trim();
}

function first(h: string | string[] | undefined): string {
  if (h === undefined) return "";
  return (Array.isArray(h) ? (h[0] ?? "") : h).trim();
}

/** The `key` parameter of a raw query string, decoded, or "". */
function queryKey(query: string): string {
  if (query === "") return "";
  let at = query.startsWith("key=") ? 0 : query.indexOf("&key=");
  if (at === -1) return "";
  if (at > 0) at++;
  const end = query.indexOf("&", at);
  const raw = query.slice(at + 4, end === -1 ? undefined : end);
  if (!raw.includes("%") && !raw.includes("+")) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

function byS(make: (s: Surface) => GatewayError): Record<Surface, GatewayError> {
  return Object.fromEntries(SURFACES.map((s) => [s, make(s)])) as Record<Surface, GatewayError>;
}
