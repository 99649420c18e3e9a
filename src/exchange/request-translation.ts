import { GatewayError } from "../errors.js";
import type { ChatRequest, Dialect } from "../providers/canonical.js";
import { DIALECTS } from "../providers/dialect.js";
import { RequestValidationError } from "../providers/errors.js";
import { geminiPath } from "../providers/gemini/request.js";
import { UnsupportedFieldError } from "../providers/unsupported.js";
import type { RequestContext } from "../core/request-context.js";
import type { Route } from "../engine/route.js";
import { planOf } from "./target-plan.js";
import type { Target } from "../core/target.js";
import type { UpstreamRequest } from "./upstream-request.js";

/**
 * The request half of crossing dialects: the client body is read into the canonical form once
 * per request, and written in the target's dialect once per attempt.
 *
 *   client body ─ from<Client>Request (once, cached on ctx) ─► ChatRequest
 *   ChatRequest ─ to<Target>Request (per attempt: model, on_unsupported) ─► upstream body
 *
 * Same-dialect attempts never come here: they forward the client's bytes.
 */

/** The dialect to translate to for this target, or undefined when the body goes as it came. */
export function translationTo(ctx: RequestContext, target: Target): Dialect | undefined {
  if (ctx.surface === "rest") return undefined;
  const d = planOf(target).dialect;
  return d === undefined || d === ctx.surface ? undefined : d;
}

const mixed = new WeakMap<Route, boolean>();

/** Whether some target of the route speaks another dialect than the route's surface (computed once). */
export function routeTranslates(route: Route): boolean {
  let m = mixed.get(route);
  if (m === undefined) {
    m = route.surface !== "rest" && route.targets.some((t) => planOf(t).dialect !== route.surface);
    mixed.set(route, m);
  }
  return m;
}

/** Whether the endpoint's body is a chat request (embeddings and REST are not translated). */
export function isChatEndpoint(ctx: RequestContext): boolean {
  const k = ctx.endpoint.kind;
  return k === "chat" || k === "messages" || k === "generate" || k === "stream_generate";
}

/**
 * The client's body in canonical form, parsed on first use and kept on the context. A body its
 * own dialect's schema refuses is the client's mistake: 400 invalid_request naming the field.
 */
export function canonicalRequest(ctx: RequestContext): ChatRequest {
  if (ctx.canonical !== undefined) return ctx.canonical;
  const dialect = ctx.surface as Dialect;
  try {
    ctx.canonical = DIALECTS[dialect].fromClientRequest(ctx.json, { model: ctx.model, stream: ctx.stream });
  } catch (err) {
    if (err instanceof RequestValidationError) throw new GatewayError("invalid_request", err.message, { cause: err, ...(err.field ? { param: err.field } : {}) });
    throw err;
  }
  return ctx.canonical;
}

/**
 * One attempt's upstream request in the target's dialect. Throws UnsupportedFieldError when the
 * target cannot take this request (a field under `on_unsupported: reject`, an endpoint its
 * dialect lacks); what drop mode dropped is kept in ctx.warnings for x-switchyard-warnings.
 */
export function translatedRequest(ctx: RequestContext, target: Target, dialect: Dialect): UpstreamRequest {
  if (!isChatEndpoint(ctx)) throw new UnsupportedFieldError("endpoint", dialect, `${ctx.endpoint.kind} has no ${dialect} equivalent`);
  const plan = planOf(target);
  const model = target.model ?? ctx.model;
  const out = DIALECTS[dialect].toUpstreamRequest(canonicalRequest(ctx), { model, onUnsupported: plan.onUnsupported });
  if (out.warnings.length > 0) (ctx.warnings ??= new Map()).set(target.id, out.warnings);
  const base = plan.basePath(model);
  let path: string;
  switch (dialect) {
    case "openai":
      path = `${base}/chat/completions`;
      break;
    case "anthropic":
      path = `${base}/v1/messages`;
      break;
    case "gemini":
      path = `${base}/v1beta${geminiPath(model, ctx.stream)}`;
      break;
  }
  return { path: plan.withQuery(path, ""), body: Buffer.from(JSON.stringify(out.body)) };
}

/** Warnings of the translation sent to this target, or undefined. */
export function warningsFor(ctx: RequestContext, target: Target): string[] | undefined {
  return ctx.warnings?.get(target.id);
}
