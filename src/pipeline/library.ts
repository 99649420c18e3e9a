import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { Surface } from "../config/schema.js";
import { GatewayError } from "../errors.js";
import { ENDPOINTS, type EndpointKind } from "../core/endpoint.js";
import { RequestContext } from "../core/request-context.js";
import type { ClientSink } from "./client-sink.js";
import type { Pipeline } from "./pipeline.js";
import { requestIdOf } from "./request-id.js";

export interface InProcessRequest {
  /** REST routes: method and path after the route's mount ("/v1/quote?symbol=IBM"). */
  method?: string;
  path?: string;
  /** LLM routes: the request body (an object with model, messages…); REST: any JSON or a Buffer. */
  body?: unknown;
  headers?: Record<string, string>;
  /** LLM routes: which endpoint (default chat for openai routes, messages for anthropic, generate for gemini). */
  endpoint?: EndpointKind;
  /** LLM routes: the model, when the body names none (a Gemini body never does). */
  model?: string;
  /** Aborting it cancels the request and its upstream call, as a client disconnecting does. */
  signal?: AbortSignal;
}

export interface InProcessResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the answer is JSON, else the raw text (an SSE stream, whole). */
  body: unknown;
  target: string;
  attempts: number;
}

const DEFAULT_ENDPOINT: Record<Surface, EndpointKind> = { openai: "chat", anthropic: "messages", gemini: "generate", rest: "rest" };
const LLM_PATHS: Record<Exclude<EndpointKind, "rest">, (model: string) => string> = {
  chat: () => "/v1/chat/completions",
  embeddings: () => "/v1/embeddings",
  messages: () => "/v1/messages",
  generate: (m) => `/v1beta/models/${m}:generateContent`,
  stream_generate: (m) => `/v1beta/models/${m}:streamGenerateContent`,
};

/**
 * The library's front: a call by route name, through the same pipeline as the server (the
 * same preparation, admission, attempts, answer and events), without a network hop. A
 * streamed answer comes back whole. Errors the server would answer are thrown as GatewayError.
 */
export async function requestInProcess(pipeline: Pipeline, routeName: string, req: InProcessRequest = {}): Promise<InProcessResponse> {
  const route = pipeline.engine.route(routeName);
  if (route === undefined) throw new GatewayError("unknown_route", `no route named "${routeName}"`);
  const kind = req.endpoint ?? DEFAULT_ENDPOINT[route.surface];
  const headers: IncomingHttpHeaders = { "content-type": "application/json" };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const ctx = new RequestContext(
    requestIdOf(headers["x-request-id"]),
    ENDPOINTS[kind],
    req.method ?? (kind === "rest" ? "GET" : "POST"),
    headers,
  );
  let model = req.model;
  let subPath: string | undefined;
  let raw = req.body;
  if (kind === "rest") {
    const path = req.path ?? "/";
    const q = path.indexOf("?");
    subPath = q === -1 ? path : path.slice(0, q);
    ctx.query = q === -1 ? "" : path.slice(q + 1);
    ctx.path = `${route.config.prefix ?? `/rest/${route.config.service ?? ""}`}${subPath}`;
  } else {
    if ((kind === "generate" || kind === "stream_generate") && isObject(raw) && "model" in raw) {
      // A Gemini body names no model (the URL does): a library caller's `model` field is not one.
      const { model: m, ...rest } = raw;
      if (model === undefined && typeof m === "string") model = m;
      raw = rest;
    }
    ctx.path = `${route.config.prefix ?? ""}${LLM_PATHS[kind](model ?? (isObject(raw) && typeof raw.model === "string" ? raw.model : ""))}`;
  }
  const body =
    raw === undefined ? Buffer.alloc(0) : Buffer.isBuffer(raw) ? raw : Buffer.from(typeof raw === "string" ? raw : JSON.stringify(raw));
  const sink = new LibrarySink();
  const signal = req.signal;
  const onAbort = (): void => {
    sink.gone = true;
    ctx.clientGone = true;
    ctx.abort();
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await new Promise<void>((resolve) => pipeline.serve(ctx, { route, model, subPath }, body, sink, resolve));
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (sink.error !== null) throw sink.error;
  const target = String(sink.headers["x-switchyard-target"] ?? "");
  if (sink.broken) throw new GatewayError("upstream_error", `target ${target} broke off its answer`);
  return {
    status: sink.status,
    headers: plainHeaders(sink.headers),
    body: parseBody(sink.text(), sink.headers),
    target,
    attempts: Number(sink.headers["x-switchyard-attempts"] ?? 0),
  };
}

/** Gathers the answer the pipeline sends, whole. */
class LibrarySink implements ClientSink {
  gone = false;
  status = 0;
  headers: OutgoingHttpHeaders = {};
  error: GatewayError | null = null;
  broken = false;
  private readonly chunks: Buffer[] = [];

  send(status: number, headers: OutgoingHttpHeaders, body: string | Buffer): void {
    this.start(status, headers);
    this.end(body);
  }

  start(status: number, headers: OutgoingHttpHeaders): void {
    this.status = status;
    this.headers = headers;
  }

  write(chunk: string | Buffer): boolean {
    this.chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    return true;
  }

  waitDrain(): void {
    // Never asked: write() always takes more.
  }

  end(tail?: string | Buffer): void {
    if (tail !== undefined) this.write(tail);
  }

  cut(): void {
    this.broken = true;
  }

  fail(err: GatewayError): void {
    this.status = err.status;
    this.error = err;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

function parseBody(text: string, headers: OutgoingHttpHeaders): unknown {
  if (!String(headers["content-type"] ?? "").includes("json")) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function plainHeaders(h: OutgoingHttpHeaders): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = typeof v === "number" ? String(v) : v;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}
