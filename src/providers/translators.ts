import type { AnthropicRequestOptions } from "./anthropic/request.js";
import { fromAnthropicRequest } from "./anthropic/client-request.js";
import { fromAnthropicError, toAnthropicError } from "./anthropic/errors.js";
import { CanonicalToAnthropicStream } from "./anthropic/from-canonical-stream.js";
import { toAnthropicRequest } from "./anthropic/request.js";
import { fromAnthropicResponse, toAnthropicResponse } from "./anthropic/response.js";
import { AnthropicToCanonicalStream } from "./anthropic/to-canonical-stream.js";
import type { CanonicalError, ChatCompletion, ChatRequest, Dialect } from "./canonical.js";
import { fromGeminiRequest } from "./gemini/client-request.js";
import { fromGeminiError, toGeminiError } from "./gemini/errors.js";
import { CanonicalToGeminiStream } from "./gemini/from-canonical-stream.js";
import { type GeminiRequestOptions, toGeminiRequest } from "./gemini/request.js";
import { fromGeminiResponse, toGeminiResponse } from "./gemini/response.js";
import { GeminiToCanonicalStream } from "./gemini/to-canonical-stream.js";
import { fromOpenAIError, toOpenAIError } from "./openai/errors.js";
import { CanonicalToOpenAIStream } from "./openai/from-canonical-stream.js";
import { type OpenAIRequestOptions, fromOpenAIRequest, toOpenAIRequest } from "./openai/request.js";
import { fromOpenAIResponse, toOpenAIResponse } from "./openai/response.js";
import { OpenAIToCanonicalStream } from "./openai/to-canonical-stream.js";
import type { FromCanonicalStream, ToCanonicalStream } from "./stream.js";
import type { Translated } from "./translation-result.js";

/**
 * The translators of each dialect, one table per dialect, so the exchange picks them once per
 * route/target and calls through them without a switch per request. The client side uses the `fromClient…`/
 * `toClient…` half of the client's surface; the upstream side the other half of the target's.
 *
 * When the client's dialect equals the target's, forwarding the body untouched (model renamed)
 * is cheaper and lossless; translation is for crossing dialects.
 */
export interface DialectTranslator {
  readonly dialect: Dialect;
  /** Client body → canonical; throws RequestValidationError. Gemini needs the URL's model and mode. */
  fromClientRequest(body: unknown, url: { model: string; stream: boolean }): ChatRequest;
  /** Canonical → upstream body; throws UnsupportedFieldError under onUnsupported "reject". */
  toUpstreamRequest(req: ChatRequest, opts: AnthropicRequestOptions & GeminiRequestOptions & OpenAIRequestOptions): Translated<unknown>;
  /** Upstream 2xx JSON → canonical; throws UpstreamFormatError. */
  fromUpstreamResponse(body: unknown): ChatCompletion;
  toClientResponse(c: ChatCompletion, model?: string): unknown;
  fromUpstreamError(status: number, body: unknown): CanonicalError;
  toClientError(e: CanonicalError): { status: number; body: unknown };
  upstreamStream(opts: { includeUsage: boolean }): ToCanonicalStream;
  /** `model` is what the client sees; `includeUsage` only matters to OpenAI clients. */
  clientStream(opts: { model: string; includeUsage: boolean }): FromCanonicalStream;
}

export const OPENAI: DialectTranslator = {
  dialect: "openai",
  fromClientRequest: (body) => fromOpenAIRequest(body),
  toUpstreamRequest: toOpenAIRequest,
  fromUpstreamResponse: fromOpenAIResponse,
  toClientResponse: toOpenAIResponse,
  fromUpstreamError: fromOpenAIError,
  toClientError: toOpenAIError,
  upstreamStream: () => new OpenAIToCanonicalStream(),
  clientStream: (opts) => new CanonicalToOpenAIStream(opts),
};

export const ANTHROPIC: DialectTranslator = {
  dialect: "anthropic",
  fromClientRequest: (body) => fromAnthropicRequest(body),
  toUpstreamRequest: toAnthropicRequest,
  fromUpstreamResponse: fromAnthropicResponse,
  toClientResponse: toAnthropicResponse,
  fromUpstreamError: fromAnthropicError,
  toClientError: toAnthropicError,
  upstreamStream: (opts) => new AnthropicToCanonicalStream(opts),
  clientStream: (opts) => new CanonicalToAnthropicStream({ model: opts.model }),
};

export const GEMINI: DialectTranslator = {
  dialect: "gemini",
  fromClientRequest: (body, url) => fromGeminiRequest(body, url),
  toUpstreamRequest: toGeminiRequest,
  fromUpstreamResponse: fromGeminiResponse,
  toClientResponse: toGeminiResponse,
  fromUpstreamError: fromGeminiError,
  toClientError: toGeminiError,
  upstreamStream: (opts) => new GeminiToCanonicalStream(opts),
  clientStream: (opts) => new CanonicalToGeminiStream({ model: opts.model }),
};

export const DIALECTS: Readonly<Record<Dialect, DialectTranslator>> = { openai: OPENAI, anthropic: ANTHROPIC, gemini: GEMINI };
