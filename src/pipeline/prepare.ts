import { GatewayError } from "../errors.js";
import type { RequestContext } from "../core/request-context.js";
import type { Route } from "../engine/route.js";
import type { RouteTable } from "../engine/route-table.js";
import { canonicalRequest } from "../exchange/request-translation.js";
import { isChatEndpoint } from "../core/endpoint.js";

/**
 * Turns an LLM-surface request into a RequestContext bound to its route: checks the media type,
 * parses the JSON once, reads model and stream, finds the route. Errors name the field at fault.
 *
 * A route with a target of another dialect also reads the body into the canonical form here,
 * once: that validates it against the client's dialect in full (400 naming the field) before any
 * attempt, and every translated attempt starts from it. A same-dialect route keeps the light
 * checks below and forwards the bytes.
 */
export function prepareLlmRequest(ctx: RequestContext, table: RouteTable, prefix: string, pathModel: string | undefined, query: string, body: Buffer): Route {
  const type = ctx.headers["content-type"];
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type))
    throw new GatewayError("unsupported_media_type", `Content-Type must be application/json (got "${type.slice(0, 100)}")`);
  if (body.length === 0) throw new GatewayError("invalid_json", "the request body is empty; send a JSON object");
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new GatewayError("invalid_json", `the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new GatewayError("invalid_request", "the request body must be a JSON object");
  const obj = json as Record<string, unknown>;
  ctx.json = obj;
  ctx.body = body;
  ctx.query = query;

  let model: string;
  if (pathModel !== undefined) {
    model = pathModel;
    ctx.stream = ctx.endpoint.kind === "stream_generate";
  } else {
    const m = obj.model;
    if (m === undefined || m === null || m === "") throw new GatewayError("missing_model", "the request has no model; add \"model\": \"<name>\" (GET /v1/models lists them)", { param: "model" });
    if (typeof m !== "string") throw new GatewayError("invalid_request", `model: must be a string (got ${typeof m})`, { param: "model" });
    model = m;
    const s = obj.stream;
    if (s !== undefined && s !== null && typeof s !== "boolean") throw new GatewayError("invalid_request", `stream: must be a boolean (got ${typeof s})`, { param: "stream" });
    ctx.stream = s === true;
    if (ctx.endpoint.kind === "chat" || ctx.endpoint.kind === "messages") {
      if (!Array.isArray(obj.messages)) throw new GatewayError("invalid_request", "messages: must be an array of messages", { param: "messages" });
    } else if (ctx.endpoint.kind === "embeddings" && obj.input === undefined) {
      throw new GatewayError("invalid_request", "input: is required", { param: "input" });
    }
  }
  ctx.model = model;
  const route = table.forModel(ctx.surface, prefix, model);
  if (route === undefined) throw new GatewayError("unknown_model", `model "${model.slice(0, 200)}" is not served on this ${ctx.surface} surface; GET ${prefix}/v1/models lists the models`, { param: "model" });
  if (isChatEndpoint(ctx.endpoint.kind) && route.translates) canonicalRequest(ctx);
  return route;
}

/** Binds a REST request to its route; refuses paths that would climb out of the target's base path. */
export function prepareRestRequest(ctx: RequestContext, route: Route, subPath: string, query: string, body: Buffer): Route {
  if (/(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i.test(subPath) || /%2f|%5c|\\/i.test(subPath))
    throw new GatewayError("invalid_request", `path "${subPath.slice(0, 200)}" is not allowed (no dot segments or encoded slashes)`);
  ctx.subPath = subPath;
  ctx.query = query;
  ctx.body = body;
  return route;
}
