import type { Target } from "../core/target.js";
import type { RequestContext } from "../core/request-context.js";
import { planOf } from "./target-plan.js";
import { translatedRequest, translationTo } from "./request-translation.js";

/** Path (with query) and body of one attempt's upstream request. */
export interface UpstreamRequest {
  path: string;
  body: Buffer | null;
}

/**
 * One attempt's upstream path and body.
 *
 * Same dialect (the fast path): the client's bytes go upstream untouched, unless the target
 * names its own model (an alias), in which case only `model` is rewritten. Another dialect:
 * translated through the canonical form (translation.ts). REST: the client's path and query,
 * or the vendor's own path template and parameter names when the target has them.
 *
 * May throw: UnsupportedFieldError (code "unsupported_field") when this target cannot take the
 * request — skip the target, another may; a GatewayError for a bad request — answer it.
 */
export function buildUpstreamRequest(ctx: RequestContext, target: Target): UpstreamRequest {
  const plan = planOf(target);
  switch (ctx.endpoint.kind) {
    case "chat":
    case "messages":
    case "generate":
    case "stream_generate":
    case "embeddings": {
      const dialect = translationTo(ctx, target);
      if (dialect !== undefined) return translatedRequest(ctx, target, dialect);
      break;
    }
    case "rest": {
      const body = ctx.body.length > 0 ? ctx.body : null;
      const vp = plan.vendorPath;
      if (vp === null) return { path: plan.withQuery(target.basePath + ctx.subPath, ctx.query), body };
      const v = vp.build(ctx.subPath, ctx.query);
      return { path: plan.withQuery(target.basePath + v.path, v.query), body };
    }
  }
  const model = target.model ?? ctx.model;
  switch (ctx.endpoint.kind) {
    case "chat":
      return { path: plan.withQuery(`${plan.basePath(model)}/chat/completions`, ""), body: rewriteModel(ctx, target) };
    case "embeddings":
      return { path: plan.withQuery(`${plan.basePath(model)}/embeddings`, ""), body: rewriteModel(ctx, target) };
    case "messages":
      return { path: plan.withQuery(`${target.basePath}/v1/messages`, ""), body: rewriteModel(ctx, target) };
    default: {
      const method = ctx.endpoint.kind === "generate" ? "generateContent" : "streamGenerateContent";
      return { path: plan.withQuery(`${target.basePath}/v1beta/models/${encodeURIComponent(model)}:${method}`, withoutClientKey(ctx.query)), body: ctx.body };
    }
  }
}

/** A Gemini client may put its own key in the query (`?key=`): like its headers, it stays here. */
function withoutClientKey(query: string): string {
  if (!query.includes("key=")) return query;
  return query
    .split("&")
    .filter((p) => !p.startsWith("key="))
    .join("&");
}

function rewriteModel(ctx: RequestContext, target: Target): Buffer {
  if (target.model === undefined || target.model === ctx.model || ctx.json === undefined) return ctx.body;
  return Buffer.from(JSON.stringify({ ...ctx.json, model: target.model }));
}
