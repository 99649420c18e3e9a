/**
 * Anthropic's wire format: POST /v1/messages (JSON and named SSE events), GET /v1/models;
 * `x-api-key` (or `Authorization: Bearer`); `anthropic-ratelimit-*` headers whose resets are
 * RFC 3339 timestamps; errors as {"type":"error","error":{type,message}}, 529 overloaded.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { composeAnswer, ChatTurn, type Answer } from "./chat-answer.js";
import { bearer, bodyObject, header, type Dialect } from "./sim-dialect.js";
import type { SimExchange } from "./sim-exchange.js";
import { sseEvent } from "./sse.js";
import { splitPieces, textOf } from "./text.js";

const MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "demo"];

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

/** RFC 3339 at whole seconds, as Anthropic sends its resets. */
export function rfc3339(epochMs: number): string {
  return new Date(Math.ceil(epochMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export const anthropicDialect: Dialect = {
  kind: "anthropic",
  basePath: "",
  retryAfterHeader: true,

  key(req: IncomingMessage): string {
    return header(req, "x-api-key") || bearer(req);
  },

  headers(ex: SimExchange, out: OutgoingHttpHeaders): void {
    const l = ex.limits;
    const now = Date.now();
    out["anthropic-ratelimit-requests-limit"] = String(l.requestsLimit);
    out["anthropic-ratelimit-requests-remaining"] = String(l.requestsRemaining);
    out["anthropic-ratelimit-requests-reset"] = rfc3339(now + l.requestsResetMs);
    out["anthropic-ratelimit-tokens-limit"] = String(l.tokensLimit);
    out["anthropic-ratelimit-tokens-remaining"] = String(l.tokensRemaining);
    out["anthropic-ratelimit-tokens-reset"] = rfc3339(now + l.tokensResetMs);
    out["anthropic-ratelimit-input-tokens-limit"] = String(l.tokensLimit);
    out["anthropic-ratelimit-input-tokens-remaining"] = String(l.tokensRemaining);
    out["anthropic-ratelimit-input-tokens-reset"] = rfc3339(now + l.tokensResetMs);
    out["request-id"] = `req_${ex.host.nextId()}`;
  },

  errorBody(ex: SimExchange, status: number, message: string): unknown {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
    return { type: "error", error: { type, message }, request_id: `req_${ex.host.nextId()}` };
  },

  streamError(): string {
    return sseEvent("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
  },

  exhausted(ex: SimExchange): void {
    ex.error(
      400,
      "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
    );
  },

  handle(ex: SimExchange): void {
    const { method, path } = ex;
    if (method === "POST" && path === "/v1/messages") return messages(ex);
    if (method === "GET" && path === "/v1/models") {
      const data = MODELS.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" }));
      return ex.json(200, { data, has_more: false, first_id: MODELS[0], last_id: MODELS[MODELS.length - 1] });
    }
    ex.error(404, `Not found: ${method} ${path}`);
  },
};

function readTurn(body: Record<string, unknown>): ChatTurn {
  const turn = new ChatTurn();
  turn.model = body.model as string;
  turn.system = textOf(body.system);
  turn.promptChars = turn.system.length;
  const messages = body.messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    const m = bodyObject(messages[i]) ?? {};
    let toolResult: string | undefined;
    if (Array.isArray(m.content)) {
      for (const block of m.content) {
        const b = bodyObject(block);
        if (b?.type === "tool_result") toolResult = textOf(b.content);
      }
    }
    const text = toolResult ?? textOf(m.content);
    turn.promptChars += text.length;
    if (m.role === "user" && toolResult === undefined) turn.lastUser = text;
    if (i === messages.length - 1) {
      turn.lastRole = m.role !== "user" ? "other" : toolResult === undefined ? "user" : "tool";
      if (toolResult !== undefined) turn.toolResult = toolResult;
    }
  }
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      const tool = bodyObject(t);
      // Server tools (web_search…) have a type and no input_schema; only client tools get called.
      if (tool !== undefined && typeof tool.name === "string" && tool.input_schema !== undefined) {
        turn.tools.push({ name: tool.name, schema: tool.input_schema });
      }
    }
  }
  return turn;
}

function messages(ex: SimExchange): void {
  const body = bodyObject(ex.body);
  if (body === undefined) return ex.error(400, "The request body is not valid JSON.");
  if (typeof body.model !== "string" || body.model === "") return ex.error(400, "model: Field required");
  if (typeof body.max_tokens !== "number") return ex.error(400, "max_tokens: Field required");
  if (!Array.isArray(body.messages) || body.messages.length === 0) return ex.error(400, "messages: Field required");
  const turn = readTurn(body);
  const a = composeAnswer(turn, ex.opts.completion_tokens);
  const id = `msg_${ex.host.nextId()}`;
  if (body.stream === true) return ex.stream(streamFrames(ex, a, id, turn.model));
  const content =
    a.tool === undefined
      ? [{ type: "text", text: a.text }]
      : [{ type: "tool_use", id: `toolu_${ex.host.nextId()}`, name: a.tool.name, input: a.args }];
  ex.json(200, {
    id,
    type: "message",
    role: "assistant",
    model: turn.model,
    content,
    stop_reason: a.tool === undefined ? "end_turn" : "tool_use",
    stop_sequence: null,
    usage: usage(a, a.outputTokens),
  });
}

function usage(a: Answer, output: number): Record<string, unknown> {
  return {
    input_tokens: a.inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: output,
    service_tier: "standard",
  };
}

function streamFrames(ex: SimExchange, a: Answer, id: string, model: string): string[] {
  const message = {
    id,
    type: "message",
    role: "assistant",
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: usage(a, 1),
  };
  const frames = [sseEvent("message_start", { type: "message_start", message })];
  const tool = a.tool;
  const toolUse = tool !== undefined;
  const block = toolUse ? { type: "tool_use", id: `toolu_${ex.host.nextId()}`, name: tool.name, input: {} } : { type: "text", text: "" };
  frames.push(sseEvent("content_block_start", { type: "content_block_start", index: 0, content_block: block }));
  frames.push(sseEvent("ping", { type: "ping" }));
  for (const piece of splitPieces(toolUse ? a.argsJson : a.text, ex.opts.stream_chunks)) {
    const delta = toolUse ? { type: "input_json_delta", partial_json: piece } : { type: "text_delta", text: piece };
    frames.push(sseEvent("content_block_delta", { type: "content_block_delta", index: 0, delta }));
  }
  frames.push(sseEvent("content_block_stop", { type: "content_block_stop", index: 0 }));
  frames.push(
    sseEvent("message_delta", {
      type: "message_delta",
      delta: { stop_reason: toolUse ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: a.outputTokens },
    }),
  );
  frames.push(sseEvent("message_stop", { type: "message_stop" }));
  return frames;
}
