import { randomUUID } from "node:crypto";
import { GatewayError } from "../errors.js";
import { ENDPOINTS, type EndpointKind } from "./endpoint.js";
import { RequestContext } from "./request-context.js";
import type { Gateway } from "./gateway.js";
import { clientResponseHeaders } from "./headers.js";

export interface InProcessRequest {
  /** REST routes: method and path after the route's mount ("/v1/quote?symbol=IBM"). */
  method?: string;
  path?: string;
  /** LLM routes: the request body (an object with model, messages…); REST: any JSON or a Buffer. */
  body?: unknown;
  headers?: Record<string, string>;
  /** LLM routes: which endpoint (default chat for openai routes, messages for anthropic). */
  endpoint?: EndpointKind;
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
    const json = (req.body ?? {}) as Record<string, unknown>;
    ctx.json = json;
    ctx.model = typeof json.model === "string" ? json.model : "";
    ctx.stream = json.stream === true;
  }
  gw.requests++;
  gw.inFlight++;
  try {
    const c = await gw.serve(route, ctx);
    let text = "";
    try {
      const chunks: Buffer[] = c.first === null ? [] : [c.first];
      if (!c.body.readableEnded) for await (const chunk of c.body) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString("utf8");
      c.finish();
    } catch (err) {
      c.finish("broken_stream", `stream broken: ${(err as Error).message}`);
      throw new GatewayError("upstream_error", `target ${c.target.id} broke off its answer`, { cause: err });
    }
    let parsed: unknown = text;
    if (String(c.headers["content-type"] ?? "").includes("json")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text
      }
    }
    const out = clientResponseHeaders(c.headers, c.target, ctx.requestId, c.attempts, false) as Record<string, string | string[] | undefined>;
    return { status: c.status, headers: out, body: parsed, target: c.target.id, attempts: c.attempts };
  } catch (err) {
    gw.errors++;
    throw err;
  } finally {
    gw.inFlight--;
  }
}
