import type { CallKind } from "../providers/adapter.js";
import type { Dialect } from "../providers/canonical.js";
import { UnsupportedFieldError } from "../errors.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import { isChatEndpoint } from "../core/endpoint.js";
import { translatedBody } from "./request-translation.js";

/** Path (with query) and body of one attempt's upstream request. */
export interface UpstreamRequest {
  readonly path: string;
  readonly body: Buffer | null;
}

/**
 * One attempt's upstream path and body. The path is always the target's address (base path with
 * its `{model}` slot filled, fixed query and key) around its adapter's path for the call.
 *
 * Same dialect (the fast path): the client's bytes go upstream untouched, unless the target
 * names its own model (an alias), in which case only `model` is rewritten. Another dialect:
 * translated through the canonical form (request-translation.ts). REST: the client's path and
 * query, or the vendor's own path template and parameter names when the target has them.
 *
 * May throw: UnsupportedFieldError when this target cannot take the request (skip the target,
 * another may); a GatewayError for a bad request (answer it).
 */
export function buildUpstreamRequest(ctx: RequestContext, target: Target): UpstreamRequest {
  const address = target.address;
  const kind = ctx.endpoint.kind;
  if (kind === "rest") {
    const body = ctx.body.length > 0 ? ctx.body : null;
    const vp = address.vendorPath;
    if (vp === null) return { path: address.withQuery(address.basePath + ctx.subPath, ctx.query), body };
    const v = vp.build(ctx.subPath, ctx.query);
    return { path: address.withQuery(address.basePath + v.path, v.query), body };
  }
  const model = target.model ?? ctx.model;
  const wire = target.wire as Dialect;
  const translated = wire !== ctx.surface;
  if (translated && !isChatEndpoint(kind)) throw new UnsupportedFieldError("endpoint", wire, `${kind} has no ${wire} equivalent`);
  const call: CallKind = translated ? chatCallOf(wire, ctx.stream) : kind;
  const callPath = target.adapter.callPath(call, model);
  if (callPath === undefined) throw new UnsupportedFieldError("endpoint", wire, `${target.provider} has no ${call} call`);
  const path = address.basePathFor(model) + callPath;
  if (translated) return { path: address.withQuery(path, ""), body: translatedBody(ctx, target, model) };
  if (wire === "gemini") return { path: address.withQuery(path, clientQueryForGemini(ctx.query)), body: ctx.body };
  return { path: address.withQuery(path, ""), body: rewriteModel(ctx, target) };
}

/** The chat call of a dialect: what a translated request becomes. */
function chatCallOf(wire: Dialect, stream: boolean): CallKind {
  switch (wire) {
    case "openai":
      return "chat";
    case "anthropic":
      return "messages";
    case "gemini":
      return stream ? "stream_generate" : "generate";
  }
}

/**
 * A Gemini client's own query goes along, but not its key (`?key=`: like its headers, it stays
 * here) nor `alt` (the adapter's path already asks for SSE when the call streams).
 */
function clientQueryForGemini(query: string): string {
  if (query === "" || (!query.includes("key=") && !query.includes("alt="))) return query;
  return query
    .split("&")
    .filter((p) => !p.startsWith("key=") && !p.startsWith("alt="))
    .join("&");
}

/**
 * OpenAI and Anthropic bodies name their model: a target with its own model gets it rewritten. A
 * streamed OpenAI chat whose client did not ask for usage asks for it (for cost accounting); the
 * relay keeps that usage chunk from the client (hidesStreamUsage).
 */
function rewriteModel(ctx: RequestContext, target: Target): Buffer {
  const json = ctx.json;
  if (json === undefined) return ctx.body;
  const renamed = target.model !== undefined && target.model !== ctx.model;
  const askUsage = hidesStreamUsage(ctx, target);
  if (!renamed && !askUsage) return ctx.body;
  const body: Record<string, unknown> = { ...json };
  if (renamed) body["model"] = target.model;
  if (askUsage) {
    const asked = json["stream_options"];
    body["stream_options"] = { ...(typeof asked === "object" && asked !== null ? asked : {}), include_usage: true };
  }
  return Buffer.from(JSON.stringify(body));
}

/**
 * A streamed OpenAI chat completion whose client did not ask for usage (stream_options.include_usage):
 * the gateway asks the upstream for it anyway, to know the answer's cost, and leaves the extra
 * usage chunk out of the client's stream, which is then what the client asked for. Not for a
 * target with `stream_usage: false` (a server that rejects the field).
 */
export function hidesStreamUsage(ctx: RequestContext, target: Target): boolean {
  if (!ctx.stream || ctx.endpoint.kind !== "chat" || !target.streamUsage) return false;
  const asked = ctx.json?.["stream_options"];
  return !(typeof asked === "object" && asked !== null && (asked as { include_usage?: unknown }).include_usage === true);
}
