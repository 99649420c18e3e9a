import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Surface } from "../config/schema.js";
import { GatewayError, UpstreamFormatError } from "../errors.js";
import { readWhole, rewriteAnswer } from "../exchange/answer.js";
import type { Committed } from "../engine/attempt-loop.js";
import { clientResponseHeaders } from "../exchange/headers.js";
import { warningsFor } from "../exchange/request-translation.js";
import { WARNINGS_HEADER, warningsHeaderValue } from "../providers/unsupported.js";
import { sendError } from "../server/error-response.js";

/**
 * Reads a committed answer whole, rewrites it (gateway/answer.ts), and sends it with its exact
 * content-length. Nothing has been sent before the rewrite succeeds, so a body that breaks or
 * does not parse still gets a proper error in the client's dialect (502 upstream_error naming
 * the target), and the attempt is recorded as the target's failure.
 */
export async function relayBuffered(c: Committed, res: ServerResponse, surface: Surface): Promise<void> {
  let text: string;
  try {
    text = await readWhole(c);
  } catch (err) {
    c.body.destroy();
    if (c.ctx.clientGone || res.destroyed) {
      c.finish();
      return;
    }
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    c.finish("broken_stream", `stream broken after the first byte: ${code}`);
    sendError(res, surface, new GatewayError("upstream_error", `${c.target.label} broke off its answer (${code})`), c.ctx.requestId);
    return;
  }
  let out;
  try {
    out = await rewriteAnswer(c, text);
  } catch (err) {
    if (!(err instanceof UpstreamFormatError)) {
      c.finish("server_error", `rewrite failed: ${(err as Error).message}`);
      throw err;
    }
    c.finish("server_error", err.message);
    sendError(res, surface, new GatewayError("upstream_error", `${c.target.label}: ${err.message}`, { cause: err }), c.ctx.requestId);
    return;
  }
  if (res.destroyed) {
    c.finish();
    return;
  }
  const headers: OutgoingHttpHeaders =
    c.target.wire === c.ctx.surface
      ? clientResponseHeaders(c.headers, c.target, c.ctx.requestId, c.attempts, false)
      : { "x-request-id": c.ctx.requestId, "x-switchyard-target": c.target.id, "x-switchyard-attempts": String(c.attempts) };
  headers["content-type"] = out.contentType;
  headers["content-length"] = String(Buffer.byteLength(out.body));
  const w = warningsFor(c.ctx, c.target);
  if (w !== undefined) headers[WARNINGS_HEADER] = warningsHeaderValue(w);
  res.writeHead(out.status, headers);
  res.end(out.body);
  c.finish();
}
