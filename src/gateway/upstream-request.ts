import type { Target } from "./target.js";
import type { RequestContext } from "./request-context.js";

/** Path (with query) and body of one attempt's upstream request. */
export interface UpstreamRequest {
  path: string;
  body: Buffer | null;
}

/**
 * Same-dialect pass-through: the client's body goes upstream untouched unless the target names
 * its own model (an alias), in which case only `model` is rewritten. Cross-dialect translation
 * plugs in here.
 */
export function buildUpstreamRequest(ctx: RequestContext, target: Target): UpstreamRequest {
  switch (ctx.endpoint.kind) {
    case "chat":
      return { path: `${target.basePath}/chat/completions`, body: rewriteModel(ctx, target) };
    case "embeddings":
      return { path: `${target.basePath}/embeddings`, body: rewriteModel(ctx, target) };
    case "messages":
      return { path: `${target.basePath}/v1/messages`, body: rewriteModel(ctx, target) };
    case "generate":
    case "stream_generate": {
      const model = encodeURIComponent(target.model ?? ctx.model);
      const method = ctx.endpoint.kind === "generate" ? "generateContent" : "streamGenerateContent";
      return { path: withQuery(`${target.basePath}/v1beta/models/${model}:${method}`, ctx.query, target), body: ctx.body };
    }
    case "rest":
      return { path: withQuery(target.basePath + ctx.subPath, ctx.query, target), body: ctx.body.length > 0 ? ctx.body : null };
  }
}

function rewriteModel(ctx: RequestContext, target: Target): Buffer {
  if (target.model === undefined || target.model === ctx.model || ctx.json === undefined) return ctx.body;
  return Buffer.from(JSON.stringify({ ...ctx.json, model: target.model }));
}

function withQuery(path: string, query: string, target: Target): string {
  if (target.authQuery === "") return query ? `${path}?${query}` : path;
  return query ? `${path}?${query}&${target.authQuery}` : `${path}?${target.authQuery}`;
}
