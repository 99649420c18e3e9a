import { randomUUID } from "node:crypto";
import { GatewayError, UpstreamFormatError } from "../errors.js";
import { ENDPOINTS, type EndpointKind } from "../core/endpoint.js";
import { RequestContext } from "../core/request-context.js";
import type { Gateway } from "../engine/engine.js";
import { clientResponseHeaders } from "../exchange/headers.js";
import { answerMode, readWhole, rewriteAnswer } from "../exchange/answer.js";
import { canonicalRequest, warningsFor } from "../exchange/request-translation.js";
import { isChatEndpoint } from "../core/endpoint.js";
import { WARNINGS_HEADER, warningsHeaderValue } from "../providers/unsupported.js";

export interface InProcessRequest {
  /** REST routes: method and path after the route's mount ("/v1/quote?symbol=IBM"). */
  method?: string;
  path?: string;
  /** LLM routes: the request body (an object with model, messages…); REST: any JSON or a Buffer. */
  body?: unknown;
  headers?: Record<string, string>;
  /** LLM routes: which endpoint (default chat for openai routes, messages for anthropic). */
  endpoint?: EndpointKind;
  /** LLM routes: the model, when the body has none (a Gemini body; default body.model). */
  model?: string;
}

export interface InProcessResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the answer is JSON, else the raw text. */
  body: unknown;
  target: string;
  attempts: number;
}

/**
 * The library's way in: the same route, attempt loop and policies as the server, without a
 * network hop to the gateway. Buffers the answer (use the server for streaming to a client).
 */
export async function requestInProcess(gw: Gateway, routeName: string, req: InProcessRequest): Promise<InProcessResponse> {
  const route = gw.route(routeName);
  if (route === undefined) throw new GatewayError("unknown_route", `no route named "${routeName}"`);
  const kind: EndpointKind = req.endpoint ?? (route.surface === "rest" ? "rest" : route.surface === "anthropic" ? "messages" : route.surface === "gemini" ? "generate" : "chat");
  const headers: Record<string, string> = { "content-type": "application/json", ...req.headers };
  const ctx = new RequestContext(randomUUID(), ENDPOINTS[kind], req.method ?? (kind === "rest" ? "GET" : "POST"), headers);
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(req.body) ? req.body : Buffer.from(JSON.stringify(req.body));
  ctx.body = body;
  if (kind === "rest") {
    const path = req.path ?? "/";
    const q = path.indexOf("?");
    ctx.subPath = q === -1 ? path : path.slice(0, q);
    ctx.query = q === -1 ? "" : path.slice(q + 1);
  } else {
    let json = (req.body ?? {}) as Record<string, unknown>;
    ctx.model = req.model ?? (typeof json.model === "string" ? json.model : "");
    if ((kind === "generate" || kind === "stream_generate") && "model" in json) {
      // A Gemini body names no model (the URL does): a library caller's `model` is not a body field.
      const { model: _, ...rest } = json;
      json = rest;
      ctx.body = Buffer.from(JSON.stringify(json));
    }
    ctx.json = json;
    ctx.stream = kind === "stream_generate" || json.stream === true;
    if (isChatEndpoint(ctx.endpoint.kind) && route.translates) canonicalRequest(ctx);
  }
  gw.requests++;
  gw.inFlight++;
  try {
    const c = await gw.serve(route, ctx);
    let text: string;
    try {
      text = await readWhole(c);
    } catch (err) {
      c.body.destroy();
      c.finish("broken_stream", `stream broken: ${(err as Error).message}`);
      throw new GatewayError("upstream_error", `${c.target.label} broke off its answer`, { cause: err });
    }
    const mode = answerMode(c);
    let status = c.status;
    let contentType = String(c.headers["content-type"] ?? "");
    if (mode !== "pass") {
      try {
        const out = await rewriteAnswer(c, text);
        status = out.status;
        text = out.body;
        contentType = out.contentType;
      } catch (err) {
        c.finish("server_error", (err as Error).message);
        if (err instanceof UpstreamFormatError) throw new GatewayError("upstream_error", `${c.target.label}: ${err.message}`, { cause: err });
        throw err;
      }
    }
    c.finish();
    let parsed: unknown = text;
    if (contentType.includes("json")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text
      }
    }
    const out = clientResponseHeaders(mode === "pass" ? c.headers : { "content-type": contentType }, c.target, ctx.requestId, c.attempts, false) as Record<string, string | string[] | undefined>;
    const w = warningsFor(ctx, c.target);
    if (w !== undefined) out[WARNINGS_HEADER] = warningsHeaderValue(w);
    return { status, headers: out, body: parsed, target: c.target.id, attempts: c.attempts };
  } catch (err) {
    gw.errors++;
    throw err;
  } finally {
    gw.inFlight--;
  }
}
