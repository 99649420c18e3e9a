import { GatewayError } from "../errors.js";
import type { Config } from "../config/schema.js";
import { isChatEndpoint } from "../core/endpoint.js";
import type { RequestContext } from "../core/request-context.js";
import type { Route } from "../engine/route.js";
import type { RouteTable } from "../engine/route-table.js";
import { canonicalRequest } from "../exchange/request-translation.js";

/** Where a request goes, as a front knows it before its body is read. */
export interface Destination {
  /** The route, when the front knows it already (a REST mount, a library call by name). */
  readonly route?: Route | undefined;
  /** LLM surfaces: the path's prefix ("" for the plain paths), to find the route by model. */
  readonly prefix?: string | undefined;
  /** A model named outside the body (a Gemini URL, a library call's `model`). */
  readonly model?: string | undefined;
  /** REST: the path after the route's mount. */
  readonly subPath?: string | undefined;
}

const PRIORITIES = new Set(["critical", "high", "normal", "low"]);
/** A path with none of these cannot hold a dot segment, an empty segment or an encoded slash: most skip the checks below. */
const MAY_CLIMB = /[.%\\]|\/\//;

/**
 * The first stage of every request, whichever front it came through: the body's size, its
 * JSON and fields (LLM surfaces) or the path's safety (REST), the route, the queue priority.
 * Errors name the field at fault. A route with a target of another dialect also reads the
 * body into the canonical form here, once: that validates it against the client's dialect in
 * full (400 naming the field) before any attempt.
 */
export function prepare(ctx: RequestContext, to: Destination, body: Buffer, table: RouteTable, config: Config): Route {
  const limit = config.server.max_body_bytes;
  if (body.length > limit)
    throw new GatewayError("body_too_large", `request body is larger than the limit of ${limit} bytes (server.max_body_bytes)`);
  const route = ctx.endpoint.kind === "rest" ? prepareRest(ctx, to, body) : prepareLlm(ctx, to, body, table);
  const q = route.policies.queueConfig;
  ctx.priority = priorityOf(ctx.headers[q.priority_header], q.default_priority, q.priority_header);
  return route;
}

function prepareLlm(ctx: RequestContext, to: Destination, body: Buffer, table: RouteTable): Route {
  const type = ctx.headers["content-type"];
  if (type !== undefined && type !== "application/json" && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type))
    throw new GatewayError("unsupported_media_type", `Content-Type must be application/json (got "${type.slice(0, 100)}")`);
  if (body.length === 0) throw new GatewayError("invalid_json", "the request body is empty; send a JSON object");
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new GatewayError("invalid_json", `the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new GatewayError("invalid_request", "the request body must be a JSON object");
  const obj = json as Record<string, unknown>;
  ctx.json = obj;
  ctx.body = body;
  const kind = ctx.endpoint.kind;
  const gemini = kind === "generate" || kind === "stream_generate";
  let model = to.model;
  if (model === undefined) {
    const m = obj.model;
    if (m === undefined || m === null || m === "")
      throw new GatewayError("missing_model", 'the request has no model; add "model": "<name>" (GET /v1/models lists them)', {
        param: "model",
      });
    if (typeof m !== "string") throw new GatewayError("invalid_request", `model: must be a string (got ${typeof m})`, { param: "model" });
    model = m;
  }
  if (gemini) ctx.stream = kind === "stream_generate";
  else {
    const s = obj.stream;
    if (s !== undefined && s !== null && typeof s !== "boolean")
      throw new GatewayError("invalid_request", `stream: must be a boolean (got ${typeof s})`, { param: "stream" });
    ctx.stream = s === true;
    if (kind === "chat" || kind === "messages") {
      if (!Array.isArray(obj.messages))
        throw new GatewayError("invalid_request", "messages: must be an array of messages", { param: "messages" });
    } else if (kind === "embeddings" && obj.input === undefined) {
      throw new GatewayError("invalid_request", "input: is required", { param: "input" });
    }
  }
  ctx.model = model;
  const prefix = to.prefix ?? "";
  const route = to.route ?? table.forModel(ctx.surface, prefix, model);
  if (route === undefined)
    throw new GatewayError(
      "unknown_model",
      `model "${model.slice(0, 200)}" is not served on this ${ctx.surface} surface; GET ${prefix}/v1/models lists the models`,
      { param: "model" },
    );
  if (isChatEndpoint(kind) && route.translates) canonicalRequest(ctx);
  return route;
}

/** Binds a REST request to its route; refuses paths that would climb out of the target's base path. */
function prepareRest(ctx: RequestContext, to: Destination, body: Buffer): Route {
  const route = to.route;
  if (route === undefined) throw new GatewayError("unknown_route", `no route for ${ctx.method} ${ctx.path}`);
  const subPath = to.subPath ?? "/";
  // An empty segment too: with a bare-origin base URL, `//host/x` upstream reads as another host to a server that resolves it as a URL.
  if (MAY_CLIMB.test(subPath) && (/(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i.test(subPath) || /%2f|%5c|\\|\/\//i.test(subPath)))
    throw new GatewayError(
      "invalid_request",
      `path "${subPath.slice(0, 200)}" is not allowed (no dot segments, empty segments or encoded slashes)`,
    );
  ctx.subPath = subPath;
  ctx.body = body;
  return route;
}

/** The request's queue priority from its header; a value that is not a priority is a 400. */
function priorityOf(h: string | string[] | undefined, fallback: RequestContext["priority"], header: string): RequestContext["priority"] {
  if (h === undefined) return fallback;
  const v = (Array.isArray(h) ? (h[0] ?? "") : h).trim().toLowerCase();
  if (PRIORITIES.has(v)) return v as RequestContext["priority"];
  throw new GatewayError("invalid_request", `${header}: must be one of critical, high, normal, low (got "${v.slice(0, 40)}")`);
}
