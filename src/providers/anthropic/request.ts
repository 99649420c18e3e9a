import type { AssistantMessage, ChatRequest, FunctionTool, TextPart, ToolMessage, UserMessage } from "../canonical.js";
import { isHttpUrl, parseDataUrl } from "../data-url.js";
import { isRecord } from "../errors.js";
import type { RequestOptions, Translated } from "../translation-result.js";
import { Fidelity } from "../unsupported.js";
import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
} from "./types.js";
import { UnsupportedFieldError } from "../../errors.js";

/**
 * Canonical → Anthropic Messages request.
 *
 *   system/developer messages → top-level `system` blocks
 *   user / assistant          → turns; consecutive same-role turns merged (the API alternates)
 *   tool results              → user-turn `tool_result` blocks, placed first in their turn
 *   tool_calls                → assistant `tool_use` blocks (arguments parsed to an object)
 *   max_tokens                → required by Anthropic: the client's, else `defaultMaxTokens`
 */

export interface AnthropicRequestOptions extends RequestOptions {
  /** Sent when the client set no max tokens (Anthropic requires one). Default 4096. */
  defaultMaxTokens?: number;
}

export const DEFAULT_MAX_TOKENS = 4096;
const IMAGE_TYPES: ReadonlySet<string> = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);
const TOOL_ID = /^[a-zA-Z0-9_-]+$/;

export function toAnthropicRequest(req: ChatRequest, opts: AnthropicRequestOptions): Translated<AnthropicRequest> {
  const fx = new Fidelity("anthropic", opts.onUnsupported);
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessage[] = [];

  for (let i = 0; i < req.messages.length; i++) {
    const m = req.messages[i];
    if (m === undefined) continue;
    switch (m.role) {
      case "system":
      case "developer":
        if (messages.length > 0) fx.note(`messages[${i}]`, "system message after the first turn moved to the top-level system prompt");
        for (const text of texts(m.content)) if (text.length > 0) system.push({ type: "text", text });
        break;
      case "user":
        appendTurn(messages, "user", userBlocks(m, i, fx));
        break;
      case "assistant":
        appendTurn(messages, "assistant", assistantBlocks(m, i, fx));
        break;
      case "tool":
        appendTurn(messages, "user", [toolResult(m)]);
        break;
    }
  }
  if (messages.length === 0)
    throw new UnsupportedFieldError("messages", "anthropic", "needs at least one non-empty user or assistant message");
  for (const turn of messages) if (turn.role === "user") toolResultsFirst(turn.content as AnthropicContentBlock[]);
  trimPrefill(messages, fx);

  const body: AnthropicRequest = {
    model: opts.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? opts.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  const onlySystem = system.length === 1 ? system[0] : undefined;
  if (onlySystem !== undefined) body.system = onlySystem.text;
  else if (system.length > 1) body.system = system;
  if (req.stream) body.stream = true;
  samplingParams(req, body, fx);
  toolParams(req, body, fx);
  otherParams(req, body, fx);
  return { body, warnings: fx.warnings };
}

function texts(content: string | TextPart[] | null | undefined): string[] {
  if (content == null) return [];
  if (typeof content === "string") return [content];
  return content.map((p) => p.text);
}

/** Anthropic rejects empty and whitespace-only text blocks. */
function pushText(blocks: AnthropicContentBlock[], text: string): void {
  if (text.trim().length > 0) blocks.push({ type: "text", text });
}

function appendTurn(messages: AnthropicMessage[], role: "user" | "assistant", blocks: AnthropicContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  if (last !== undefined && last.role === role) (last.content as AnthropicContentBlock[]).push(...blocks);
  else messages.push({ role, content: blocks });
}

function userBlocks(m: UserMessage, i: number, fx: Fidelity): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  if (m.name !== undefined) fx.note(`messages[${i}].name`, "participant names are not carried");
  if (typeof m.content === "string") {
    pushText(blocks, m.content);
    return blocks;
  }
  for (let j = 0; j < m.content.length; j++) {
    const p = m.content[j];
    if (p === undefined) continue;
    const field = `messages[${i}].content[${j}]`;
    if (p.type === "text") pushText(blocks, p.text);
    else if (p.type === "image_url") {
      const url = p.image_url.url;
      const data = parseDataUrl(url);
      if (data !== null) {
        if (IMAGE_TYPES.has(data.mediaType))
          blocks.push({ type: "image", source: { type: "base64", media_type: data.mediaType, data: data.data } });
        else fx.unsupported(field, `image type ${data.mediaType} not accepted (jpeg, png, gif, webp)`);
      } else if (isHttpUrl(url)) blocks.push({ type: "image", source: { type: "url", url } });
      else fx.unsupported(field, "image URL must be a base64 data URL or http(s)");
    } else if (p.type === "file") {
      const data = p.file.file_data !== undefined ? parseDataUrl(p.file.file_data) : null;
      if (data !== null && data.mediaType === "application/pdf") {
        blocks.push({ type: "document", source: { type: "base64", media_type: data.mediaType, data: data.data } });
      } else fx.unsupported(field, "only inline PDF files are carried");
    } else fx.unsupported(field, "audio input not supported");
  }
  return blocks;
}

function assistantBlocks(m: AssistantMessage, i: number, fx: Fidelity): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  for (const text of texts(m.content)) pushText(blocks, text);
  if (m.refusal) fx.note(`messages[${i}].refusal`, "not carried");
  if (m.name !== undefined) fx.note(`messages[${i}].name`, "participant names are not carried");
  const calls = m.tool_calls;
  if (calls) {
    for (let j = 0; j < calls.length; j++) {
      const c = calls[j];
      if (c === undefined) continue;
      blocks.push({
        type: "tool_use",
        id: toolId(c.id),
        name: c.function.name,
        input: toolInput(c.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`, fx),
      });
    }
  }
  return blocks;
}

function toolInput(args: string, field: string, fx: Fidelity): Record<string, unknown> {
  if (args.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(args);
    if (isRecord(v)) return v;
  } catch {
    // fall through
  }
  fx.unsupported(field, "not a JSON object (Anthropic needs an object)", "sent as {}");
  return {};
}

/** Anthropic tool ids are `[a-zA-Z0-9_-]+`; ids from other servers are mapped the same way on both sides. */
function toolId(id: string): string {
  return TOOL_ID.test(id) ? id : id.replace(/[^a-zA-Z0-9_-]/g, "_") || "call";
}

function toolResult(m: ToolMessage): AnthropicToolResultBlock {
  const block: AnthropicToolResultBlock = { type: "tool_result", tool_use_id: toolId(m.tool_call_id) };
  if (typeof m.content === "string") {
    if (m.content.length > 0) block.content = m.content;
  } else {
    const parts: AnthropicTextBlock[] = [];
    for (const p of m.content) if (p.text.trim().length > 0) parts.push({ type: "text", text: p.text });
    if (parts.length > 0) block.content = parts;
  }
  if (m.is_error) block.is_error = true;
  return block;
}

/** Anthropic wants a user turn's tool_result blocks before anything else in it. */
function toolResultsFirst(blocks: AnthropicContentBlock[]): void {
  let seenOther = false;
  let misplaced = false;
  for (const b of blocks) {
    if (b.type !== "tool_result") seenOther = true;
    else if (seenOther) misplaced = true;
  }
  if (!misplaced) return;
  const results = blocks.filter((b) => b.type === "tool_result");
  const rest = blocks.filter((b) => b.type !== "tool_result");
  blocks.length = 0;
  blocks.push(...results, ...rest);
}

/** A final assistant turn is a prefill, which Anthropic refuses with trailing whitespace. */
function trimPrefill(messages: AnthropicMessage[], fx: Fidelity): void {
  const last = messages[messages.length - 1];
  if (last === undefined || last.role !== "assistant") return;
  const blocks = last.content as AnthropicContentBlock[];
  const b = blocks[blocks.length - 1];
  if (b === undefined || b.type !== "text") return;
  const trimmed = b.text.trimEnd();
  if (trimmed === b.text) return;
  fx.note("messages", "trailing whitespace of the final assistant message trimmed");
  b.text = trimmed;
}

function samplingParams(req: ChatRequest, body: AnthropicRequest, fx: Fidelity): void {
  if (req.temperature != null) {
    if (req.temperature > 1) {
      fx.unsupported("temperature", `${req.temperature} is above Anthropic's maximum 1`, "sent as 1");
      body.temperature = 1;
    } else body.temperature = req.temperature;
  }
  if (req.top_p != null) body.top_p = req.top_p;
  if (req.top_k != null) body.top_k = req.top_k;
  if (req.stop != null) {
    const stops = typeof req.stop === "string" ? [req.stop] : req.stop;
    const kept: string[] = [];
    for (const s of stops) {
      if (s.trim().length > 0) kept.push(s);
      else fx.unsupported("stop", "whitespace-only stop sequences are refused by Anthropic");
    }
    if (kept.length > 0) body.stop_sequences = kept;
  }
}

function toolParams(req: ChatRequest, body: AnthropicRequest, fx: Fidelity): void {
  const tools: (AnthropicTool | Record<string, unknown>)[] = [];
  if (req.tools) {
    for (let i = 0; i < req.tools.length; i++) {
      const ft = req.tools[i];
      if (ft === undefined) continue;
      const t = tool(ft, i, fx);
      if (t) tools.push(t);
    }
  }
  const vendor = req.vendor;
  if (vendor?.tools) {
    if (vendor.dialect === "anthropic") for (const t of vendor.tools) tools.push(t as Record<string, unknown>);
    else for (let i = 0; i < vendor.tools.length; i++) fx.unsupported(`tools[${i}]`, `${vendor.dialect} built-in tool`);
  }
  const choice = req.tool_choice;
  if (tools.length === 0) {
    if (choice === "required" || typeof choice === "object") fx.unsupported("tool_choice", "no tools to choose from");
    return;
  }
  body.tools = tools;
  let tc: AnthropicToolChoice | undefined;
  if (choice === "none") tc = { type: "none" };
  else if (choice === "required") tc = { type: "any" };
  else if (typeof choice === "object") tc = { type: "tool", name: choice.function.name };
  else if (choice === "auto") tc = { type: "auto" };
  if (req.parallel_tool_calls === false && tc?.type !== "none") {
    tc ??= { type: "auto" };
    (tc as { disable_parallel_tool_use?: boolean }).disable_parallel_tool_use = true;
  }
  if (tc) body.tool_choice = tc;
}

function tool(t: FunctionTool, i: number, fx: Fidelity): AnthropicTool | null {
  const f = t.function;
  let schema: Record<string, unknown> = f.parameters ?? { type: "object", properties: {} };
  if (schema.type === undefined) schema = { type: "object", ...schema };
  else if (schema.type !== "object") {
    fx.unsupported(`tools[${i}]`, "Anthropic input schemas must be of type object");
    return null;
  }
  if (f.strict) fx.note(`tools[${i}].function.strict`, "strict schema adherence not requested from Anthropic");
  const out: AnthropicTool = { name: f.name, input_schema: schema };
  if (f.description !== undefined) out.description = f.description;
  return out;
}

function otherParams(req: ChatRequest, body: AnthropicRequest, fx: Fidelity): void {
  const rf = req.response_format;
  if (rf && rf.type !== "text") fx.unsupported("response_format", "Anthropic has no JSON mode");
  if (req.n != null && req.n > 1) fx.unsupported("n", "Anthropic returns one choice");
  if (req.seed != null) fx.unsupported("seed", "not an Anthropic parameter");
  if (req.presence_penalty) fx.unsupported("presence_penalty", "not an Anthropic parameter");
  if (req.frequency_penalty) fx.unsupported("frequency_penalty", "not an Anthropic parameter");
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) fx.unsupported("logit_bias", "not an Anthropic parameter");
  if (req.logprobs) fx.unsupported("logprobs", "Anthropic returns no log probabilities");
  if (req.top_logprobs) fx.unsupported("top_logprobs", "Anthropic returns no log probabilities");
  if (req.reasoning_effort != null) fx.unsupported("reasoning_effort", "use Anthropic's thinking parameter");
  if (req.user) body.metadata = { user_id: req.user };
  if (req.metadata != null) fx.note("metadata", "OpenAI-only, ignored");
  if (req.store) fx.note("store", "OpenAI-only, ignored");
  if (req.service_tier != null) fx.note("service_tier", "OpenAI-only, ignored");
  const vendor = req.vendor;
  if (vendor) {
    if (vendor.dialect === "anthropic") Object.assign(body, vendor.fields);
    else for (const key of Object.keys(vendor.fields)) fx.unsupported(key, `${vendor.dialect}-only field`);
  }
}
