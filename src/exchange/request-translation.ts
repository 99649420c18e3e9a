import { GatewayError, RequestValidationError } from "../errors.js";
import type { ChatRequest, Dialect } from "../providers/canonical.js";
import { DIALECTS } from "../providers/translators.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";

/**
 * The request half of crossing dialects: the client body is read into the canonical form once
 * per request, and written in the target's dialect once per attempt.
 *
 *   client body ─ from<Client>Request (once, cached on ctx) ─► ChatRequest
 *   ChatRequest ─ to<Target>Request (per attempt: model, on_unsupported) ─► upstream body
 *
 * Same-dialect attempts never come here: they forward the client's bytes.
 */

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
    if (err instanceof RequestValidationError)
      throw new GatewayError("invalid_request", err.message, { cause: err, ...(err.field ? { param: err.field } : {}) });
    throw err;
  }
  return ctx.canonical;
}

/**
 * One attempt's upstream body in the target's dialect. Throws UnsupportedFieldError when the
 * target cannot take this request (a field under `on_unsupported: reject`); what drop mode
 * dropped is kept in ctx.warnings for x-switchyard-warnings.
 */
export function translatedBody(ctx: RequestContext, target: Target, model: string): Buffer {
  const out = DIALECTS[target.wire as Dialect].toUpstreamRequest(canonicalRequest(ctx), {
    model,
    onUnsupported: target.onUnsupported,
    streamUsage: target.streamUsage,
  });
  if (out.warnings.length > 0) (ctx.warnings ??= new Map()).set(target.id, out.warnings);
  return Buffer.from(JSON.stringify(out.body));
}

/** Warnings of the translation sent to this target, or undefined. */
export function warningsFor(ctx: RequestContext, target: Target): string[] | undefined {
  return ctx.warnings?.get(target.id);
}
