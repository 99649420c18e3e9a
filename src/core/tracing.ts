/**
 * OpenTelemetry spans of the data plane, through the API only (the SDK is set up in
 * telemetry/tracing.ts and handed in as a Tracer):
 *
 *   SERVER "chat gpt-4o"        one per request, child of the client's traceparent if any
 *     CLIENT "chat gpt-4o"      one per attempt; the upstream gets its traceparent
 *     CLIENT "chat gpt-4o"      a failover or a hedge: a sibling
 *
 * Attributes follow the GenAI semantic conventions (gen_ai.*) plus switchyard.*. None carries a
 * key: no URL (a key may travel in the query), no header, only hosts, ids and names; outcome
 * details are masked with the target's key before they become a status message.
 *
 * Off by default, and then free: the tracer stays undefined, each hook is one `undefined` check
 * (the request's span, the attempt's span) and allocates nothing.
 */
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from "@opentelemetry/api";
import type { ProviderKind, RouteConfig } from "../config/schema.js";
import type { AttemptRecord } from "./attempt-record.js";
import type { EndpointKind } from "./endpoint.js";
import type { RequestRecord } from "./events.js";
import type { RequestContext } from "./request-context.js";
import type { Target } from "./target.js";

export type { Span };

let tracer: Tracer | undefined;

/** Spans from now on, made by this tracer (telemetry/tracing.ts calls it once tracing is set up). */
export function enableTracing(t: Tracer): void {
  tracer = t;
}

/** No spans from now on (shutdown, and between tests). Spans already started still end. */
export function disableTracing(): void {
  tracer = undefined;
}

/** gen_ai.operation.name by endpoint; none for REST. */
const OPERATION: Readonly<Record<EndpointKind, string | undefined>> = {
  chat: "chat",
  messages: "chat",
  generate: "chat",
  stream_generate: "chat",
  embeddings: "embeddings",
  rest: undefined,
};

/** gen_ai.system by provider: the semantic conventions' well-known values, else the provider's own name. */
const GEN_AI_SYSTEM: Readonly<Record<ProviderKind, string | undefined>> = {
  openai: "openai",
  azure: "az.ai.openai",
  anthropic: "anthropic",
  gemini: "gcp.gemini",
  groq: "groq",
  deepseek: "deepseek",
  mistral: "mistral_ai",
  perplexity: "perplexity",
  together: "together",
  fireworks: "fireworks",
  openrouter: "openrouter",
  ollama: "ollama",
  vllm: "vllm",
  "openai-compatible": "openai-compatible",
  rest: undefined,
};

/**
 * Starts the request's SERVER span once its route is known (ctx.span), from the request's
 * arrival, as the child of the client's traceparent/tracestate when it sent valid ones.
 */
export function startRequestSpan(ctx: RequestContext, route: RouteConfig): void {
  if (tracer === undefined) return;
  const op = OPERATION[ctx.endpoint.kind];
  const attributes: Attributes = { "http.request.method": ctx.method, "switchyard.route": route.name };
  let name: string;
  if (op === undefined) {
    const mount = route.prefix ?? `/rest/${route.service ?? ""}`;
    attributes["http.route"] = mount;
    name = `${ctx.method} ${mount}`;
  } else {
    attributes["gen_ai.operation.name"] = op;
    attributes["gen_ai.request.model"] = ctx.model;
    name = `${op} ${ctx.model}`;
  }
  const parent = propagation.extract(ROOT_CONTEXT, ctx.headers);
  ctx.span = tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: ctx.startedAt, attributes }, parent);
}

/** Starts an attempt's CLIENT span, the child of the request's; undefined when tracing is off. */
export function startAttemptSpan(ctx: RequestContext, target: Target, number: number): Span | undefined {
  const parent = ctx.span;
  if (tracer === undefined || parent === undefined) return undefined;
  const op = OPERATION[ctx.endpoint.kind];
  const model = target.model ?? ctx.model;
  const span = tracer.startSpan(
    op === undefined ? ctx.method : `${op} ${model}`,
    { kind: SpanKind.CLIENT, attributes: targetAttributes(target) },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  if (!span.isRecording()) return span;
  span.setAttribute("switchyard.attempt", number);
  if (op !== undefined) {
    span.setAttribute("gen_ai.operation.name", op);
    span.setAttribute("gen_ai.request.model", model);
  }
  return span;
}

/** Ends an attempt's span with its outcome (ERROR unless ok, the outcome's detail as message). */
export function endAttemptSpan(span: Span, a: AttemptRecord, ctx: RequestContext): void {
  if (span.isRecording()) {
    const o = a.outcome;
    span.setAttribute("switchyard.outcome", o.kind);
    span.setAttribute("switchyard.hedge", a.hedge);
    if (o.status > 0) span.setAttribute("http.response.status_code", o.status);
    if (o.kind !== "ok") {
      span.setAttribute("error.type", o.kind);
      span.setStatus({ code: SpanStatusCode.ERROR, message: a.target.maskKeyIn(o.detail) });
    } else if (ctx.surface !== "rest") {
      span.setAttribute("gen_ai.response.model", a.target.model ?? ctx.model);
      const u = ctx.usage;
      if (u !== null) {
        span.setAttribute("gen_ai.usage.input_tokens", u.prompt_tokens);
        span.setAttribute("gen_ai.usage.output_tokens", u.completion_tokens);
      }
    }
  }
  span.end();
}

/**
 * Ends the request's span from its record: the answering target, the upstream model, tokens and
 * cost. A 5xx is an ERROR with the last attempt's detail; a 4xx is the client's (the HTTP
 * conventions leave a SERVER span's status unset) and only gets error.type.
 */
export function endRequestSpan(ctx: RequestContext, r: RequestRecord): void {
  const span = ctx.span;
  if (span === undefined) return;
  if (span.isRecording()) {
    span.setAttribute("http.response.status_code", r.status);
    span.setAttribute("switchyard.attempts", r.attempts);
    span.setAttribute("switchyard.cost_usd", r.costUsd);
    const last = r.tries.length > 0 ? r.tries[r.tries.length - 1] : undefined;
    if (r.target !== null) {
      span.setAttribute("switchyard.target", r.target);
      const answered = r.tries.find((t) => t.target.id === r.target)?.target;
      const system = answered === undefined ? undefined : GEN_AI_SYSTEM[answered.provider];
      if (system !== undefined) span.setAttribute("gen_ai.system", system);
    }
    if (r.upstreamModel !== "") span.setAttribute("gen_ai.response.model", r.upstreamModel);
    const u = r.usage;
    if (u !== null) {
      span.setAttribute("gen_ai.usage.input_tokens", u.prompt_tokens);
      span.setAttribute("gen_ai.usage.output_tokens", u.completion_tokens);
    }
    if (r.errorCode !== null) {
      span.setAttribute("error.type", r.errorCode);
      if (r.status >= 500) {
        const detail = last === undefined ? "" : `: ${last.target.maskKeyIn(last.outcome.detail)}`;
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${r.errorCode}${detail}` });
      }
    }
  }
  span.end();
}

/**
 * Puts the attempt span's context on an upstream request's headers through the global
 * propagator (W3C traceparent, and tracestate when the span has one), over the client's.
 */
export function injectTraceContext(span: Span, headers: Record<string, string>): void {
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
}

/** What a target's attempt spans always carry, worked out once per target. */
const byTarget = new WeakMap<Target, Attributes>();

function targetAttributes(target: Target): Attributes {
  let a = byTarget.get(target);
  if (a === undefined) {
    const url = new URL(target.address.origin);
    a = {
      "server.address": url.hostname,
      "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)),
      "switchyard.route": target.routeName,
      "switchyard.target": target.id,
    };
    const system = GEN_AI_SYSTEM[target.provider];
    if (system !== undefined) a["gen_ai.system"] = system;
    byTarget.set(target, a);
  }
  return a;
}
