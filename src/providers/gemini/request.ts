import type { AssistantMessage, ChatRequest, TextPart, ToolMessage, UserMessage } from "../canonical.js";
import { parseDataUrl } from "../data-url.js";
import { isRecord } from "../errors.js";
import type { RequestOptions, Translated } from "../translation-result.js";
import { Fidelity } from "../unsupported.js";
import { toGeminiSchema } from "./schema-subset.js";
import type { GeminiContent, GeminiFunctionDeclaration, GeminiGenerationConfig, GeminiPart, GeminiRequest, GeminiTool } from "./types.js";
import { UnsupportedFieldError } from "../../errors.js";

/**
 * Canonical → Gemini generateContent request. The model goes in the URL (`geminiPath`).
 *
 *   system/developer → systemInstruction parts
 *   user / tool      → role "user" (tool results as functionResponse, named by the earlier call)
 *   assistant        → role "model" (tool calls as functionCall parts with their thoughtSignature)
 *   tools            → one tool with functionDeclarations, schemas cut to Gemini's subset
 *   sampling, stop, max tokens, n, seed, penalties, JSON mode → generationConfig
 */

export interface GeminiRequestOptions extends RequestOptions {
  /**
   * Send schemas as full JSON Schema (`parametersJsonSchema`, `responseJsonSchema`, supported by
   * current Gemini models) instead of rewriting them into the OpenAPI subset. Default false.
   */
  jsonSchema?: boolean;
}

/** Path (after the base URL's /v1beta) for a model and a mode. */
export function geminiPath(model: string, stream: boolean): string {
  const name = model.startsWith("models/") ? model.slice(7) : model;
  return `/models/${encodeURIComponent(name)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`;
}

const FILE_URI_PREFIXES = ["gs://", "https://generativelanguage.googleapis.com/"];
const MAX_STOPS = 5;

export function toGeminiRequest(req: ChatRequest, opts: GeminiRequestOptions): Translated<GeminiRequest> {
  const fx = new Fidelity("gemini", opts.onUnsupported);
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  /** Tool-call id → function name: functionResponse must name the function, a tool message only has the id. */
  const callNames = new Map<string, string>();

  for (let i = 0; i < req.messages.length; i++) {
    const m = req.messages[i];
    if (m === undefined) continue;
    switch (m.role) {
      case "system":
      case "developer":
        if (contents.length > 0) fx.note(`messages[${i}]`, "system message after the first turn moved to systemInstruction");
        for (const text of texts(m.content)) if (text.length > 0) system.push({ text });
        break;
      case "user":
        append(contents, "user", userParts(m, i, fx));
        break;
      case "assistant":
        append(contents, "model", modelParts(m, i, fx, callNames));
        break;
      case "tool": {
        const name = callNames.get(m.tool_call_id);
        if (name === undefined)
          fx.unsupported(`messages[${i}].tool_call_id`, "matches no earlier tool call (Gemini needs the function name)");
        else append(contents, "user", [functionResponse(m, name)]);
        break;
      }
    }
  }
  if (contents.length === 0)
    throw new UnsupportedFieldError("messages", "gemini", "needs at least one non-empty user or assistant message");

  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  tools(req, body, fx, opts.jsonSchema === true);
  const gc = generationConfig(req, fx, opts.jsonSchema === true);
  otherParams(req, body, gc, fx);
  if (Object.keys(gc).length > 0) body.generationConfig = gc;
  return { body, warnings: fx.warnings };
}

function texts(content: string | TextPart[] | null | undefined): string[] {
  if (content == null) return [];
  if (typeof content === "string") return [content];
  return content.map((p) => p.text);
}

function append(contents: GeminiContent[], role: "user" | "model", parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last !== undefined && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

function userParts(m: UserMessage, i: number, fx: Fidelity): GeminiPart[] {
  if (m.name !== undefined) fx.note(`messages[${i}].name`, "participant names are not carried");
  if (typeof m.content === "string") return m.content.length > 0 ? [{ text: m.content }] : [];
  const parts: GeminiPart[] = [];
  for (let j = 0; j < m.content.length; j++) {
    const p = m.content[j];
    if (p === undefined) continue;
    const field = `messages[${i}].content[${j}]`;
    if (p.type === "text") {
      if (p.text.length > 0) parts.push({ text: p.text });
    } else if (p.type === "image_url") {
      const url = p.image_url.url;
      const data = parseDataUrl(url);
      if (data !== null) parts.push({ inlineData: { mimeType: data.mediaType, data: data.data } });
      else if (FILE_URI_PREFIXES.some((x) => url.startsWith(x))) parts.push({ fileData: { fileUri: url } });
      else fx.unsupported(field, "Gemini cannot fetch http(s) image URLs (use a data URL or gs://)");
    } else if (p.type === "input_audio") {
      parts.push({ inlineData: { mimeType: p.input_audio.format === "mp3" ? "audio/mp3" : "audio/wav", data: p.input_audio.data } });
    } else {
      const data = p.file.file_data !== undefined ? parseDataUrl(p.file.file_data) : null;
      if (data !== null) parts.push({ inlineData: { mimeType: data.mediaType, data: data.data } });
      else fx.unsupported(field, "only inline (data URL) files are carried");
    }
  }
  return parts;
}

function modelParts(m: AssistantMessage, i: number, fx: Fidelity, callNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  for (const text of texts(m.content)) if (text.length > 0) parts.push({ text });
  if (m.refusal) fx.note(`messages[${i}].refusal`, "not carried");
  if (m.name !== undefined) fx.note(`messages[${i}].name`, "participant names are not carried");
  const calls = m.tool_calls;
  if (!calls) return parts;
  for (let j = 0; j < calls.length; j++) {
    const c = calls[j];
    if (c === undefined) continue;
    callNames.set(c.id, c.function.name);
    const part: GeminiPart = {
      functionCall: {
        name: c.function.name,
        args: args(c.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`, fx),
        id: c.id,
      },
    };
    const sig = c.extra_content?.google?.thought_signature;
    if (sig) part.thoughtSignature = sig;
    parts.push(part);
  }
  return parts;
}

function args(text: string, field: string, fx: Fidelity): Record<string, unknown> {
  if (text.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v)) return v;
  } catch {
    // fall through
  }
  fx.unsupported(field, "not a JSON object (Gemini needs an object)", "sent as {}");
  return {};
}

/** Gemini's convention (google-genai): `{output: …}` for a result, `{error: …}` for a failure. */
function functionResponse(m: ToolMessage, name: string): GeminiPart {
  const text = typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("");
  return { functionResponse: { name, response: m.is_error ? { error: text } : { output: text }, id: m.tool_call_id } };
}

function tools(req: ChatRequest, body: GeminiRequest, fx: Fidelity, jsonSchema: boolean): void {
  const out: GeminiTool[] = [];
  if (req.tools && req.tools.length > 0) {
    const decls: GeminiFunctionDeclaration[] = [];
    for (let i = 0; i < req.tools.length; i++) {
      const t = req.tools[i];
      if (t === undefined) continue;
      const f = t.function;
      const d: GeminiFunctionDeclaration = { name: f.name };
      if (f.description !== undefined) d.description = f.description;
      const p = f.parameters;
      // Gemini refuses an OBJECT schema with no properties: a function without parameters omits them.
      if (p !== undefined && isRecord(p.properties) && Object.keys(p.properties).length > 0) {
        if (jsonSchema) d.parametersJsonSchema = p;
        else d.parameters = toGeminiSchema(p, `tools[${i}].function.parameters`, fx);
      }
      if (f.strict) fx.note(`tools[${i}].function.strict`, "strict schema adherence not requested from Gemini");
      decls.push(d);
    }
    out.push({ functionDeclarations: decls });
  }
  const vendor = req.vendor;
  if (vendor?.tools) {
    if (vendor.dialect === "gemini") for (const t of vendor.tools) out.push(t as GeminiTool);
    else for (let i = 0; i < vendor.tools.length; i++) fx.unsupported(`tools[${i}]`, `${vendor.dialect} built-in tool`);
  }
  const choice = req.tool_choice;
  if (out.length === 0) {
    if (choice === "required" || typeof choice === "object") fx.unsupported("tool_choice", "no tools to choose from");
    return;
  }
  body.tools = out;
  if (choice === "auto") body.toolConfig = { functionCallingConfig: { mode: "AUTO" } };
  else if (choice === "none") body.toolConfig = { functionCallingConfig: { mode: "NONE" } };
  else if (choice === "required") body.toolConfig = { functionCallingConfig: { mode: "ANY" } };
  else if (typeof choice === "object")
    body.toolConfig = { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.function.name] } };
  if (req.parallel_tool_calls === false) fx.unsupported("parallel_tool_calls", "Gemini cannot be told to call one function at a time");
}

function generationConfig(req: ChatRequest, fx: Fidelity, jsonSchema: boolean): GeminiGenerationConfig {
  const gc: GeminiGenerationConfig = {};
  if (req.stop != null) {
    let stops = typeof req.stop === "string" ? [req.stop] : req.stop;
    if (stops.length > MAX_STOPS) {
      fx.unsupported("stop", `Gemini takes at most ${MAX_STOPS} stop sequences`, `the first ${MAX_STOPS} sent`);
      stops = stops.slice(0, MAX_STOPS);
    }
    if (stops.length > 0) gc.stopSequences = stops;
  }
  if (req.temperature != null) gc.temperature = req.temperature;
  if (req.top_p != null) gc.topP = req.top_p;
  if (req.top_k != null) gc.topK = req.top_k;
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max != null) gc.maxOutputTokens = max;
  if (req.n != null && req.n > 1) gc.candidateCount = req.n;
  if (req.seed != null) gc.seed = req.seed;
  if (req.presence_penalty) gc.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty) gc.frequencyPenalty = req.frequency_penalty;
  const rf = req.response_format;
  if (rf?.type === "json_object") gc.responseMimeType = "application/json";
  else if (rf?.type === "json_schema") {
    gc.responseMimeType = "application/json";
    const schema = rf.json_schema.schema;
    if (schema !== undefined) {
      if (jsonSchema) gc.responseJsonSchema = schema;
      else gc.responseSchema = toGeminiSchema(schema, "response_format.json_schema.schema", fx);
    }
  }
  return gc;
}

function otherParams(req: ChatRequest, body: GeminiRequest, gc: GeminiGenerationConfig, fx: Fidelity): void {
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) fx.unsupported("logit_bias", "not a Gemini parameter");
  if (req.logprobs) fx.unsupported("logprobs", "log probabilities are not translated from Gemini");
  if (req.top_logprobs) fx.unsupported("top_logprobs", "log probabilities are not translated from Gemini");
  if (req.reasoning_effort != null) fx.unsupported("reasoning_effort", "use Gemini's generationConfig.thinkingConfig");
  if (req.user !== undefined) fx.note("user", "Gemini has no end-user id, ignored");
  if (req.metadata != null) fx.note("metadata", "OpenAI-only, ignored");
  if (req.store) fx.note("store", "OpenAI-only, ignored");
  if (req.service_tier != null) fx.note("service_tier", "OpenAI-only, ignored");
  const vendor = req.vendor;
  if (!vendor) return;
  if (vendor.dialect !== "gemini") {
    for (const key of Object.keys(vendor.fields)) fx.unsupported(key, `${vendor.dialect}-only field`);
    return;
  }
  for (const key of Object.keys(vendor.fields)) {
    const v = vendor.fields[key];
    // generationConfig sub-fields with no canonical meaning (thinkingConfig, responseModalities…)
    if (key === "generationConfig" && isRecord(v)) Object.assign(gc, v);
    else body[key] = v;
  }
}
