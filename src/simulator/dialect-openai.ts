/**
 * OpenAI's wire format (also every OpenAI-compatible server): /v1/chat/completions (JSON and
 * SSE), /v1/embeddings, /v1/models; `Authorization: Bearer`; `x-ratelimit-*` headers whose
 * resets are Go-style durations ("1s", "6m0s"); errors as {"error":{message,type,param,code}}.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { composeAnswer, ChatTurn, type Answer, type ToolSpec } from "./chat-answer.js";
import { bearer, bodyObject, header, type Dialect } from "./sim-dialect.js";
import type { SimExchange } from "./sim-exchange.js";
import { SSE_DONE, sseData } from "./sse.js";
import { embed, embeddingBase64, estimateTokens, splitPieces, textOf } from "./text.js";

const MODELS = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "demo"];
const EMBEDDING_DIMS = 8;

/** Go duration text as OpenAI sends it: 12ms, 1s, 1.5s, 6m0s, 1h2m3s. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let s = Math.round(ms) / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${Math.round(s * 1000) / 1000}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

const ERROR_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ["invalid_request_error", null],
  401: ["invalid_request_error", "invalid_api_key"],
  403: ["invalid_request_error", "unsupported_country_region_territory"],
  404: ["invalid_request_error", "unknown_url"],
  429: ["requests", "rate_limit_exceeded"],
  500: ["server_error", null],
  503: ["server_error", "server_is_overloaded"],
};

export const openaiDialect: Dialect = {
  kind: "openai",
  basePath: "/v1",
  retryAfterHeader: true,

  key(req: IncomingMessage): string {
    return bearer(req);
  },

  headers(ex: SimExchange, out: OutgoingHttpHeaders): void {
    const l = ex.limits;
    out["x-ratelimit-limit-requests"] = String(l.requestsLimit);
    out["x-ratelimit-remaining-requests"] = String(l.requestsRemaining);
    out["x-ratelimit-reset-requests"] = goDuration(l.requestsResetMs);
    out["x-ratelimit-limit-tokens"] = String(l.tokensLimit);
    out["x-ratelimit-remaining-tokens"] = String(l.tokensRemaining);
    out["x-ratelimit-reset-tokens"] = goDuration(l.tokensResetMs);
    out["x-request-id"] = header(ex.req, "x-request-id") || `req_${ex.host.nextId()}`;
    out["openai-processing-ms"] = String(Date.now() - ex.arrivedAt);
    if (ex.retryAfterMs > 0) out["retry-after-ms"] = String(Math.ceil(ex.retryAfterMs));
  },

  errorBody(_ex: SimExchange, status: number, message: string): unknown {
    const [type, code] = ERROR_TYPES[status] ?? (status >= 500 ? ["server_error", null] : ["invalid_request_error", null]);
    return { error: { message, type, param: null, code } };
  },

  streamError(): string {
    return sseData({
      error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null },
    });
  },

  exhausted(ex: SimExchange): void {
    const message = "You exceeded your current quota, please check your plan and billing details.";
    ex.json(429, { error: { message, type: "insufficient_quota", param: null, code: "insufficient_quota" } });
  },

  handle(ex: SimExchange): void {
    const { method, path } = ex;
    if (method === "POST" && path === "/v1/chat/completions") return chat(ex);
    if (method === "POST" && path === "/v1/embeddings") return embeddings(ex);
    if (method === "GET" && path === "/v1/models") {
      return ex.json(200, { object: "list", data: MODELS.map((id) => model(ex, id)) });
    }
    if (method === "GET" && path.startsWith("/v1/models/")) return ex.json(200, model(ex, decodeURIComponent(path.slice(11))));
    ex.error(404, `Unknown request URL: ${method} ${path}. Please check the URL for typos.`);
  },
};

function model(ex: SimExchange, id: string): unknown {
  return { id, object: "model", created: 1_700_000_000, owned_by: ex.opts.name };
}

function readTurn(body: Record<string, unknown>): ChatTurn {
  const turn = new ChatTurn();
  turn.model = body.model as string;
  const messages = body.messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    const m = bodyObject(messages[i]) ?? {};
    const text = textOf(m.content);
    turn.promptChars += text.length;
    if (m.role === "system" || m.role === "developer") turn.system = turn.system === "" ? text : `${turn.system}\n${text}`;
    else if (m.role === "user") turn.lastUser = text;
    if (i === messages.length - 1) {
      turn.lastRole = m.role === "user" ? "user" : m.role === "tool" ? "tool" : "other";
      if (m.role === "tool") turn.toolResult = text;
    }
  }
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      const fn = bodyObject(bodyObject(t)?.function);
      if (fn !== undefined && typeof fn.name === "string") turn.tools.push({ name: fn.name, schema: fn.parameters });
    }
  }
  return turn;
}

function chat(ex: SimExchange): void {
  const body = bodyObject(ex.body);
  if (body === undefined) return ex.error(400, "We could not parse the JSON body of your request.");
  if (typeof body.model !== "string" || body.model === "") return ex.error(400, "you must provide a model parameter");
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return ex.error(400, "Invalid 'messages': expected a non-empty array.");
  }
  const turn = readTurn(body);
  const answer = composeAnswer(turn, ex.opts.completion_tokens);
  const id = `chatcmpl-${ex.host.nextId()}`;
  const created = Math.floor(Date.now() / 1000);
  if (body.stream === true) {
    const includeUsage = bodyObject(body.stream_options)?.include_usage === true;
    return ex.stream(streamFrames(ex, answer, id, created, turn.model, includeUsage));
  }
  const toolCalls = answer.tool === undefined ? undefined : [toolCall(ex, answer.tool, answer.argsJson)];
  ex.json(200, {
    id,
    object: "chat.completion",
    created,
    model: turn.model,
    choices: [
      {
        index: 0,
        message:
          toolCalls === undefined
            ? { role: "assistant", content: answer.text, refusal: null, annotations: [] }
            : { role: "assistant", content: null, tool_calls: toolCalls, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: toolCalls === undefined ? "stop" : "tool_calls",
      },
    ],
    usage: usage(answer),
    service_tier: "default",
    system_fingerprint: "fp_sim",
  });
}

function toolCall(ex: SimExchange, tool: ToolSpec, argsJson: string): unknown {
  return { id: `call_${ex.host.nextId()}`, type: "function", function: { name: tool.name, arguments: argsJson } };
}

function usage(a: Answer): unknown {
  return {
    prompt_tokens: a.inputTokens,
    completion_tokens: a.outputTokens,
    total_tokens: a.inputTokens + a.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function streamFrames(ex: SimExchange, a: Answer, id: string, created: number, model: string, includeUsage: boolean): string[] {
  const chunk = (delta: unknown, finish: string | null): string => {
    const c: Record<string, unknown> = {
      id,
      object: "chat.completion.chunk",
      created,
      model,
      system_fingerprint: "fp_sim",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (includeUsage) c.usage = null;
    return sseData(c);
  };
  const frames: string[] = [];
  if (a.tool === undefined) {
    frames.push(chunk({ role: "assistant", content: "", refusal: null }, null));
    for (const piece of splitPieces(a.text, ex.opts.stream_chunks)) frames.push(chunk({ content: piece }, null));
    frames.push(chunk({}, "stop"));
  } else {
    const call = { index: 0, id: `call_${ex.host.nextId()}`, type: "function", function: { name: a.tool.name, arguments: "" } };
    frames.push(chunk({ role: "assistant", content: null, tool_calls: [call], refusal: null }, null));
    for (const piece of splitPieces(a.argsJson, ex.opts.stream_chunks)) {
      frames.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
    }
    frames.push(chunk({}, "tool_calls"));
  }
  if (includeUsage) {
    frames.push(
      sseData({ id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_sim", choices: [], usage: usage(a) }),
    );
  }
  frames.push(SSE_DONE);
  return frames;
}

function embeddings(ex: SimExchange): void {
  const body = bodyObject(ex.body);
  if (body === undefined || body.input === undefined) return ex.error(400, "'input' is a required property");
  if (typeof body.model !== "string" || body.model === "") return ex.error(400, "you must provide a model parameter");
  const raw = body.input;
  const inputs: string[] = typeof raw === "string" ? [raw] : Array.isArray(raw) ? [] : [JSON.stringify(raw)];
  if (Array.isArray(raw)) {
    if (raw.length > 0 && typeof raw[0] === "number") inputs.push(JSON.stringify(raw));
    else for (const x of raw) inputs.push(typeof x === "string" ? x : JSON.stringify(x));
  }
  const dims = typeof body.dimensions === "number" && body.dimensions > 0 ? Math.min(4096, Math.floor(body.dimensions)) : EMBEDDING_DIMS;
  const base64 = body.encoding_format === "base64";
  let tokens = 0;
  const data = inputs.map((text, index) => {
    tokens += Math.max(1, estimateTokens(text.length));
    const v = embed(text, dims);
    return { object: "embedding", index, embedding: base64 ? embeddingBase64(v) : v };
  });
  ex.json(200, { object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}
