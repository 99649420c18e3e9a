import type { ChatRequest, Message, ToolCall } from "../canonical.js";
import { isRecord } from "../errors.js";
import type { RequestOptions, Translated } from "../translation-result.js";
import { Fidelity } from "../unsupported.js";
import { parseClientBody } from "../validation.js";
import { KNOWN_REQUEST_FIELDS, chatRequestSchema } from "./schema.js";

/**
 * OpenAI is the canonical shape, so both directions are near-identity: validation on the way in,
 * and on the way out the model name plus removal of Switchyard's extensions (OpenAI rejects
 * unknown fields, nested ones included).
 */

export interface OpenAIRequestOptions extends RequestOptions {
  /**
   * Ask a streaming upstream for its final usage chunk even when the client did not, so usage is
   * always counted; CanonicalToOpenAIStream then withholds that chunk from such a client.
   * Default true.
   */
  streamUsage?: boolean;
}

const MAX_STOPS = 4;

/** A client's chat-completions body → canonical. Throws RequestValidationError naming the field. */
export function fromOpenAIRequest(body: unknown): ChatRequest {
  const req: ChatRequest = parseClientBody(chatRequestSchema, body);
  let fields: Record<string, unknown> | undefined;
  for (const key of Object.keys(body as object)) {
    if (KNOWN_REQUEST_FIELDS.has(key)) continue;
    (fields ??= {})[key] = (body as Record<string, unknown>)[key];
  }
  if (fields) req.vendor = { dialect: "openai", fields };
  return req;
}

/** Canonical → an OpenAI (or OpenAI-compatible) chat-completions body. */
export function toOpenAIRequest(req: ChatRequest, opts: OpenAIRequestOptions): Translated<Record<string, unknown>> {
  const fx = new Fidelity("openai", opts.onUnsupported);
  const body: Record<string, unknown> = { ...req, model: opts.model };
  delete body.vendor;

  if (req.top_k != null) {
    fx.unsupported("top_k", "not an OpenAI parameter");
    delete body.top_k;
  }
  if (Array.isArray(req.stop) && req.stop.length > MAX_STOPS) {
    fx.unsupported("stop", `OpenAI takes at most ${MAX_STOPS} stop sequences`, `the first ${MAX_STOPS} sent`);
    body.stop = req.stop.slice(0, MAX_STOPS);
  }
  if (needsMessageCopy(req.messages)) body.messages = req.messages.map((m, i) => stripExtensions(m, i, fx));

  const vendor = req.vendor;
  if (vendor) {
    if (vendor.dialect === "openai") {
      for (const key of Object.keys(vendor.fields)) body[key] = vendor.fields[key];
    } else {
      for (const key of Object.keys(vendor.fields)) fx.unsupported(key, `${vendor.dialect}-only field`);
      if (vendor.tools)
        for (let i = 0; i < vendor.tools.length; i++)
          fx.unsupported(`tools[${toolName(vendor.tools[i], i)}]`, `${vendor.dialect} built-in tool`);
    }
  }

  if (req.stream && opts.streamUsage !== false && !req.stream_options?.include_usage) {
    body.stream_options = { ...req.stream_options, include_usage: true };
  }
  return { body, warnings: fx.warnings };
}

function needsMessageCopy(messages: readonly Message[]): boolean {
  for (const m of messages) {
    if (m.role === "tool" && m.is_error !== undefined) return true;
    if (m.role === "assistant" && m.tool_calls) for (const c of m.tool_calls) if (c.extra_content !== undefined) return true;
  }
  return false;
}

function stripExtensions(m: Message, i: number, fx: Fidelity): Message {
  if (m.role === "tool" && m.is_error !== undefined) {
    const { is_error, ...rest } = m;
    if (is_error) fx.note(`messages[${i}].is_error`, "OpenAI has no tool error flag, dropped");
    return rest;
  }
  if (m.role === "assistant" && m.tool_calls) {
    return { ...m, tool_calls: m.tool_calls.map(stripToolCall) };
  }
  return m;
}

function stripToolCall(c: ToolCall): ToolCall {
  if (c.extra_content === undefined) return c;
  return { id: c.id, type: c.type, function: c.function };
}

function toolName(tool: unknown, i: number): string {
  if (isRecord(tool) && typeof tool.name === "string") return tool.name;
  return String(i);
}
