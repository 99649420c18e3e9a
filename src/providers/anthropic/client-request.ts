import type { AssistantMessage, ChatRequest, ContentPart, FunctionTool, Message, TextPart, ToolCall, ToolChoice } from "../canonical.js";
import { toDataUrl } from "../data-url.js";
import { parseClientBody } from "../validation.js";
import { type AnthropicClientBlock, type AnthropicClientRequest, KNOWN_ANTHROPIC_FIELDS, anthropicRequestSchema } from "./schema.js";
import { RequestValidationError } from "../../errors.js";

/**
 * An Anthropic client's Messages body → canonical.
 *
 *   system                 → one system message
 *   user tool_result blocks → tool messages, ahead of the rest of that turn
 *   assistant tool_use      → tool_calls (input serialised to JSON text)
 *   thinking blocks         → dropped (history reasoning; Anthropic strips it from context too)
 *   other top-level fields  → vendor fields, re-sent only to Anthropic targets
 *
 * Throws RequestValidationError naming the field for a bad body or a block no other dialect
 * could carry (server-tool results, file references).
 */
export function fromAnthropicRequest(body: unknown): ChatRequest {
  const b: AnthropicClientRequest = parseClientBody(anthropicRequestSchema, body);
  const messages: Message[] = [];
  if (b.system !== undefined) {
    if (typeof b.system === "string") messages.push({ role: "system", content: b.system });
    else if (b.system.length > 0) messages.push({ role: "system", content: b.system.map(textPart) });
  }
  for (let i = 0; i < b.messages.length; i++) {
    const m = b.messages[i];
    if (m === undefined) continue;
    if (typeof m.content === "string")
      messages.push(m.role === "user" ? { role: "user", content: m.content } : { role: "assistant", content: m.content });
    else if (m.role === "user") userTurn(m.content, i, messages);
    else messages.push(assistantTurn(m.content, i));
  }

  const req: ChatRequest = { model: b.model, messages, max_tokens: b.max_tokens };
  if (b.stop_sequences !== undefined) req.stop = b.stop_sequences;
  if (b.temperature !== undefined) req.temperature = b.temperature;
  if (b.top_p !== undefined) req.top_p = b.top_p;
  if (b.top_k !== undefined) req.top_k = b.top_k;
  if (b.metadata?.user_id) req.user = b.metadata.user_id;
  if (b.stream) {
    req.stream = true;
    // An Anthropic client always gets usage in message_delta, so always ask the upstream for it.
    req.stream_options = { include_usage: true };
  }
  tools(b, req);

  const raw = body as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (KNOWN_ANTHROPIC_FIELDS.has(key)) continue;
    req.vendor ??= { dialect: "anthropic", fields: {} };
    req.vendor.fields[key] = raw[key];
  }
  return req;
}

function textPart(b: { text: string }): TextPart {
  return { type: "text", text: b.text };
}

function userTurn(blocks: AnthropicClientBlock[], i: number, out: Message[]): void {
  const parts: ContentPart[] = [];
  for (let j = 0; j < blocks.length; j++) {
    const blk = blocks[j];
    if (blk === undefined) continue;
    const field = `messages[${i}].content[${j}]`;
    switch (blk.type) {
      case "text":
        parts.push(textPart(blk));
        break;
      case "image":
        parts.push(imagePart(blk.source, field));
        break;
      case "document":
        if (blk.source.type === "base64") {
          const file: { file_data: string; filename?: string } = { file_data: toDataUrl(blk.source.media_type, blk.source.data) };
          if (blk.title) file.filename = blk.title;
          parts.push({ type: "file", file });
        } else if (blk.source.type === "text") parts.push({ type: "text", text: blk.source.data });
        else throw new RequestValidationError(`${field}.source`, `${blk.source.type} document sources are not supported`);
        break;
      case "tool_result":
        out.push(toolMessage(blk, field));
        break;
      default:
        throw new RequestValidationError(`${field}.type`, `${blk.type} blocks are not allowed in a user message`);
    }
  }
  if (parts.length > 0) out.push({ role: "user", content: parts });
}

function imagePart(source: Extract<AnthropicClientBlock, { type: "image" }>["source"], field: string): ContentPart {
  if (source.type === "base64") return { type: "image_url", image_url: { url: toDataUrl(source.media_type, source.data) } };
  if (source.type === "url") return { type: "image_url", image_url: { url: source.url } };
  throw new RequestValidationError(`${field}.source`, `${source.type} image sources are not supported`);
}

function toolMessage(blk: Extract<AnthropicClientBlock, { type: "tool_result" }>, field: string): Message {
  let content: string | TextPart[] = "";
  if (typeof blk.content === "string") content = blk.content;
  else if (blk.content !== undefined) {
    const parts: TextPart[] = [];
    for (let k = 0; k < blk.content.length; k++) {
      const c = blk.content[k];
      if (c === undefined) continue;
      if (c.type !== "text") throw new RequestValidationError(`${field}.content[${k}]`, "images in tool results are not supported");
      parts.push(textPart(c));
    }
    content = parts;
  }
  const msg: Message = { role: "tool", tool_call_id: blk.tool_use_id, content };
  if (blk.is_error) msg.is_error = true;
  return msg;
}

function assistantTurn(blocks: AnthropicClientBlock[], i: number): AssistantMessage {
  const parts: TextPart[] = [];
  let calls: ToolCall[] | undefined;
  for (let j = 0; j < blocks.length; j++) {
    const blk = blocks[j];
    if (blk === undefined) continue;
    if (blk.type === "text") parts.push(textPart(blk));
    else if (blk.type === "tool_use")
      (calls ??= []).push({ id: blk.id, type: "function", function: { name: blk.name, arguments: JSON.stringify(blk.input) } });
    else if (blk.type !== "thinking" && blk.type !== "redacted_thinking") {
      throw new RequestValidationError(`messages[${i}].content[${j}].type`, `${blk.type} blocks are not allowed in an assistant message`);
    }
  }
  const first = parts[0];
  const msg: AssistantMessage = { role: "assistant", content: first === undefined ? null : parts.length === 1 ? first.text : parts };
  if (calls) msg.tool_calls = calls;
  return msg;
}

function tools(b: AnthropicClientRequest, req: ChatRequest): void {
  if (b.tools) {
    for (let i = 0; i < b.tools.length; i++) {
      const t = b.tools[i];
      if (t === undefined) continue;
      if ((t.type === undefined || t.type === "custom") && t.input_schema !== undefined) {
        const fn: FunctionTool["function"] = { name: t.name, parameters: t.input_schema };
        if (t.description !== undefined) fn.description = t.description;
        (req.tools ??= []).push({ type: "function", function: fn });
      } else if (t.type === undefined || t.type === "custom") {
        throw new RequestValidationError(`tools[${i}].input_schema`, "required for a custom tool");
      } else {
        req.vendor ??= { dialect: "anthropic", fields: {} };
        (req.vendor.tools ??= []).push(t);
      }
    }
  }
  const tc = b.tool_choice;
  if (tc === undefined) return;
  let choice: ToolChoice;
  if (tc.type === "auto") choice = "auto";
  else if (tc.type === "any") choice = "required";
  else if (tc.type === "none") choice = "none";
  else choice = { type: "function", function: { name: tc.name } };
  req.tool_choice = choice;
  if (tc.type !== "none" && tc.disable_parallel_tool_use) req.parallel_tool_calls = false;
}
