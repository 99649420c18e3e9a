import type { AssistantMessage, ChatRequest, ContentPart, FunctionTool, Message, TextPart, ToolCall, ToolMessage } from "../canonical.js";
import { toDataUrl } from "../data-url.js";
import { parseClientBody } from "../validation.js";
import { schemaFromOpenApi } from "./schema-from-openapi.js";
import {
  type GeminiClientPart,
  type GeminiClientRequest,
  KNOWN_GEMINI_FIELDS,
  KNOWN_GENERATION_FIELDS,
  geminiRequestSchema,
} from "./schema.js";
import { RequestValidationError } from "../../errors.js";

export interface GeminiClientOptions {
  /** The model from the URL (`/v1beta/models/{model}:generateContent`). */
  model: string;
  /** Whether the client called streamGenerateContent. */
  stream: boolean;
}

/**
 * A Gemini client's generateContent body → canonical.
 *
 *   systemInstruction          → system message
 *   model functionCall parts   → tool_calls (ids from the call, else `call_<turn>_<part>`)
 *   user functionResponse parts → tool messages, paired with the earlier call by id, else by name
 *   thought parts              → dropped (the model's own reasoning summaries)
 */
export function fromGeminiRequest(body: unknown, opts: GeminiClientOptions): ChatRequest {
  const b: GeminiClientRequest = parseClientBody(geminiRequestSchema, body);
  const messages: Message[] = [];
  const si = b.systemInstruction;
  if (typeof si === "string") messages.push({ role: "system", content: si });
  else if (si !== undefined) {
    const parts: TextPart[] = [];
    for (const p of si.parts) if (typeof p.text === "string") parts.push({ type: "text", text: p.text });
    const first = parts[0];
    if (first !== undefined) messages.push({ role: "system", content: parts.length === 1 ? first.text : parts });
  }
  /** Calls of the latest model turn not answered yet, for pairing responses that carry no id. */
  let open: { id: string; name: string }[] = [];
  for (let i = 0; i < b.contents.length; i++) {
    const c = b.contents[i];
    if (c === undefined) continue;
    if (c.role === "model") {
      const m = modelTurn(c.parts, i);
      open = m.tool_calls ? m.tool_calls.map((t) => ({ id: t.id, name: t.function.name })) : [];
      messages.push(m);
    } else userTurn(c.parts, i, messages, open);
  }

  const req: ChatRequest = { model: opts.model, messages };
  if (opts.stream) {
    req.stream = true;
    req.stream_options = { include_usage: true };
  }
  tools(b, req);
  generation(b, req);
  const raw = body as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (KNOWN_GEMINI_FIELDS.has(key)) continue;
    req.vendor ??= { dialect: "gemini", fields: {} };
    req.vendor.fields[key] = raw[key];
  }
  return req;
}

function modelTurn(parts: GeminiClientPart[], i: number): AssistantMessage {
  const texts: TextPart[] = [];
  let calls: ToolCall[] | undefined;
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j];
    if (p === undefined || p.thought) continue;
    if (typeof p.text === "string") texts.push({ type: "text", text: p.text });
    else if (p.functionCall) {
      const call: ToolCall = {
        id: p.functionCall.id ?? `call_${i}_${j}`,
        type: "function",
        function: { name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) },
      };
      if (p.thoughtSignature) call.extra_content = { google: { thought_signature: p.thoughtSignature } };
      (calls ??= []).push(call);
    } else if (p.thoughtSignature === undefined || Object.keys(p).length > 1) unsupportedPart(p, `contents[${i}].parts[${j}]`);
  }
  const first = texts[0];
  const m: AssistantMessage = { role: "assistant", content: first === undefined ? null : texts.length === 1 ? first.text : texts };
  if (calls) m.tool_calls = calls;
  return m;
}

function userTurn(parts: GeminiClientPart[], i: number, out: Message[], open: { id: string; name: string }[]): void {
  const content: ContentPart[] = [];
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j];
    if (p === undefined) continue;
    const field = `contents[${i}].parts[${j}]`;
    if (typeof p.text === "string") {
      if (!p.thought) content.push({ type: "text", text: p.text });
    } else if (p.inlineData) content.push(inline(p.inlineData.mimeType, p.inlineData.data));
    else if (p.fileData) {
      const mime = p.fileData.mimeType;
      if (mime !== undefined && !mime.startsWith("image/"))
        throw new RequestValidationError(`${field}.fileData`, `only image files can be translated (got ${mime})`);
      content.push({ type: "image_url", image_url: { url: p.fileData.fileUri } });
    } else if (p.functionResponse) out.push(toolMessage(p.functionResponse, open, i, j));
    else unsupportedPart(p, field);
  }
  if (content.length > 0) out.push({ role: "user", content });
}

function inline(mime: string, data: string): ContentPart {
  if (mime.startsWith("image/")) return { type: "image_url", image_url: { url: toDataUrl(mime, data) } };
  if (mime === "audio/wav" || mime === "audio/x-wav") return { type: "input_audio", input_audio: { data, format: "wav" } };
  if (mime === "audio/mp3" || mime === "audio/mpeg") return { type: "input_audio", input_audio: { data, format: "mp3" } };
  return { type: "file", file: { file_data: toDataUrl(mime, data) } };
}

function toolMessage(
  fr: NonNullable<GeminiClientPart["functionResponse"]>,
  open: { id: string; name: string }[],
  i: number,
  j: number,
): ToolMessage {
  let k = fr.id !== undefined ? open.findIndex((c) => c.id === fr.id) : -1;
  if (k === -1) k = open.findIndex((c) => c.name === fr.name);
  const paired = k === -1 ? undefined : open[k];
  const id = paired === undefined ? (fr.id ?? `call_${i}_${j}`) : paired.id;
  if (paired !== undefined) open.splice(k, 1);
  const r = fr.response;
  const keys = Object.keys(r);
  let text: string;
  let isError = false;
  if (keys.length === 1 && typeof r.output === "string") text = r.output;
  else if (keys.length === 1 && typeof r.content === "string") text = r.content;
  else if (keys.length === 1 && typeof r.error === "string") {
    text = r.error;
    isError = true;
  } else text = JSON.stringify(r);
  const m: ToolMessage = { role: "tool", tool_call_id: id, content: text };
  if (isError) m.is_error = true;
  return m;
}

function unsupportedPart(p: GeminiClientPart, field: string): never {
  const kind = Object.keys(p).find((k) => k !== "thoughtSignature" && k !== "thought") ?? "empty part";
  throw new RequestValidationError(field, `${kind} parts are not supported`);
}

function tools(b: GeminiClientRequest, req: ChatRequest): void {
  const cfg = b.toolConfig?.functionCallingConfig;
  const allowed = cfg?.mode === "ANY" && cfg.allowedFunctionNames?.length ? new Set(cfg.allowedFunctionNames) : undefined;
  if (b.tools) {
    for (const t of b.tools) {
      let builtIn = false;
      for (const key of Object.keys(t)) if (key !== "functionDeclarations") builtIn = true;
      if (builtIn) {
        req.vendor ??= { dialect: "gemini", fields: {} };
        const { functionDeclarations: _, ...rest } = t;
        (req.vendor.tools ??= []).push(rest);
      }
      for (const d of t.functionDeclarations ?? []) {
        // ANY with several allowed names: only those may be called, so only those are offered.
        // (One allowed name is a named tool_choice, which keeps every tool in view.)
        if (allowed && allowed.size > 1 && !allowed.has(d.name)) continue;
        const fn: FunctionTool["function"] = { name: d.name };
        if (d.description !== undefined) fn.description = d.description;
        const params =
          d.parametersJsonSchema ?? (d.parameters === undefined ? undefined : (schemaFromOpenApi(d.parameters) as Record<string, unknown>));
        if (params !== undefined) fn.parameters = params;
        (req.tools ??= []).push({ type: "function", function: fn });
      }
    }
  }
  if (!cfg?.mode || cfg.mode === "MODE_UNSPECIFIED") return;
  if (cfg.mode === "NONE") req.tool_choice = "none";
  else if (cfg.mode === "ANY") {
    const only = allowed?.size === 1 ? allowed.values().next().value : undefined;
    req.tool_choice = only !== undefined ? { type: "function", function: { name: only } } : "required";
  } else req.tool_choice = "auto";
}

function generation(b: GeminiClientRequest, req: ChatRequest): void {
  const g = b.generationConfig;
  if (!g) return;
  if (g.stopSequences !== undefined) req.stop = g.stopSequences;
  if (g.temperature !== undefined) req.temperature = g.temperature;
  if (g.topP !== undefined) req.top_p = g.topP;
  if (g.topK !== undefined) req.top_k = g.topK;
  if (g.maxOutputTokens !== undefined) req.max_tokens = g.maxOutputTokens;
  if (g.candidateCount !== undefined) req.n = g.candidateCount;
  if (g.seed !== undefined) req.seed = g.seed;
  if (g.presencePenalty !== undefined) req.presence_penalty = g.presencePenalty;
  if (g.frequencyPenalty !== undefined) req.frequency_penalty = g.frequencyPenalty;
  const vendorGc: Record<string, unknown> = {};
  if (g.responseMimeType === "application/json") {
    const schema =
      g.responseJsonSchema ??
      (g.responseSchema === undefined ? undefined : (schemaFromOpenApi(g.responseSchema) as Record<string, unknown>));
    req.response_format = schema ? { type: "json_schema", json_schema: { name: "response", schema } } : { type: "json_object" };
  } else if (g.responseMimeType !== undefined && g.responseMimeType !== "text/plain") {
    vendorGc.responseMimeType = g.responseMimeType;
    if (g.responseSchema) vendorGc.responseSchema = g.responseSchema;
  }
  for (const key of Object.keys(g)) if (!KNOWN_GENERATION_FIELDS.has(key)) vendorGc[key] = (g as Record<string, unknown>)[key];
  if (Object.keys(vendorGc).length > 0) {
    req.vendor ??= { dialect: "gemini", fields: {} };
    req.vendor.fields.generationConfig = vendorGc;
  }
}
