/**
 * The canonical form every translation goes through: the OpenAI chat-completions shapes (request,
 * response, stream chunk), plus a few marked Switchyard extensions for facts other dialects carry
 * that OpenAI has no field for. A client body is read into this form once (`from*Request`), and
 * an upstream answer is read into it once (`from*Response`, `*UpstreamStream`), so N dialects need
 * 2N translators instead of N².
 */

/** The wire dialects Switchyard speaks, on both sides. `openai-compatible` targets speak `openai`. */
export type Dialect = "openai" | "anthropic" | "gemini";

// ─── request ────────────────────────────────────────────────────────────────────────────────

export interface TextPart {
  type: "text";
  text: string;
}

export interface ImagePart {
  type: "image_url";
  /** `data:<mime>;base64,<data>` or an http(s)/gs:// URL. */
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}

export interface AudioPart {
  type: "input_audio";
  input_audio: { data: string; format: "wav" | "mp3" };
}

export interface FilePart {
  type: "file";
  /** `file_data` is a base64 data URL; `file_id` names a file uploaded to the provider. */
  file: { file_data?: string; file_id?: string; filename?: string };
}

export type ContentPart = TextPart | ImagePart | AudioPart | FilePart;

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; /** JSON text, as the model produced it. */ arguments: string };
  /**
   * Google's OpenAI-compatibility convention for Gemini's opaque `thoughtSignature`, which Gemini
   * 3 requires back on the function calls of the current turn. Clients that echo the assistant
   * message unchanged carry it across turns.
   */
  extra_content?: { google?: { thought_signature?: string } };
}

export interface SystemMessage {
  role: "system" | "developer";
  content: string | TextPart[];
  name?: string;
}

export interface UserMessage {
  role: "user";
  content: string | ContentPart[];
  name?: string;
}

export interface AssistantMessage {
  role: "assistant";
  content?: string | TextPart[] | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  name?: string;
}

export interface ToolMessage {
  role: "tool";
  tool_call_id: string;
  content: string | TextPart[];
  /** Switchyard extension: the tool failed (Anthropic `is_error`, Gemini `response.error`). */
  is_error?: boolean;
}

export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage;
export type Role = Message["role"];

export interface FunctionTool {
  type: "function";
  function: {
    name: string;
    description?: string;
    /** A JSON Schema of the arguments object. */
    parameters?: JsonObject;
    strict?: boolean | null;
  };
}

export type ToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; json_schema: { name: string; description?: string; schema?: JsonObject; strict?: boolean | null } };

export interface ChatRequest {
  model: string;
  messages: Message[];
  tools?: FunctionTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  stop?: string | string[] | null;
  temperature?: number | null;
  top_p?: number | null;
  /** Switchyard extension (Anthropic `top_k`, Gemini `topK`); not sent to OpenAI. */
  top_k?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  response_format?: ResponseFormat;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  user?: string;
  n?: number | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  reasoning_effort?: "minimal" | "low" | "medium" | "high" | null;
  metadata?: Record<string, string> | null;
  store?: boolean | null;
  service_tier?: string | null;
  /**
   * Fields of the client's own dialect that have no canonical meaning (Anthropic `thinking`,
   * Gemini `safetySettings`, a new OpenAI parameter). Re-sent verbatim to a target of the same
   * dialect; for any other dialect each one is an unsupported field (dropped with a warning, or
   * rejected).
   */
  vendor?: VendorFields;
}

export interface VendorFields {
  dialect: Dialect;
  /** Top-level body fields, as the client sent them. */
  fields: Record<string, unknown>;
  /** Dialect-native tools that are not plain functions (Anthropic server tools, Gemini googleSearch). */
  tools?: unknown[];
}

// ─── response ───────────────────────────────────────────────────────────────────────────────

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface Usage {
  /** All input tokens, cached ones included (OpenAI's meaning). */
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; /** Switchyard extension: Anthropic cache writes. */ cache_creation_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

export interface ResponseMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
}

export interface Choice {
  index: number;
  message: ResponseMessage;
  finish_reason: FinishReason | null;
  logprobs?: null;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Choice[];
  usage?: Usage;
  system_fingerprint?: string | null;
  service_tier?: string | null;
}

// ─── stream ─────────────────────────────────────────────────────────────────────────────────

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
  extra_content?: ToolCall["extra_content"];
}

export interface ChunkDelta {
  role?: "assistant";
  content?: string | null;
  tool_calls?: ToolCallDelta[];
  refusal?: string | null;
}

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  finish_reason: FinishReason | null;
  logprobs?: null;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: ChunkChoice[];
  /** Only on the last chunk, with empty `choices`, when `stream_options.include_usage` was set. */
  usage?: Usage | null;
  system_fingerprint?: string | null;
}

// ─── error ──────────────────────────────────────────────────────────────────────────────────

/**
 * The canonical error taxonomy is Anthropic's (the finest of the three); the HTTP status travels
 * beside it because the attempt loop classifies on status, and `code` keeps a provider's
 * machine-readable reason (`insufficient_quota`, `context_length_exceeded`) that policies need.
 */
export const ERROR_TYPES = [
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
  "rate_limit_error",
  "api_error",
  "overloaded_error",
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export interface CanonicalError {
  status: number;
  type: ErrorType;
  message: string;
  code?: string;
  /** The request field at fault, when known (`messages[2].content`). */
  param?: string;
}

// ─── JSON ───────────────────────────────────────────────────────────────────────────────────

export type JsonObject = { [key: string]: unknown };
