import type { GatewayError } from "../errors.js";
import type { WireFormat } from "./adapter.js";
import { anthropicGatewayError } from "./anthropic/errors.js";
import type { CanonicalError } from "./canonical.js";
import { geminiGatewayError } from "./gemini/errors.js";
import { openAIGatewayError } from "./openai/errors.js";
import { restGatewayError, restStreamError } from "./rest/errors.js";
import { encodeSse } from "./sse.js";
import { DIALECTS } from "./translators.js";

/**
 * What a client gets when the gateway itself answers with an error: the body in the client's
 * dialect, always carrying the gateway's stable code (OpenAI `code`, Anthropic `error.code`,
 * Gemini `reason`, REST `code`).
 */
export function clientErrorBody(surface: WireFormat, err: GatewayError): unknown {
  switch (surface) {
    case "anthropic":
      return anthropicGatewayError(err);
    case "gemini":
      return geminiGatewayError(err);
    case "rest":
      return restGatewayError(err);
    default:
      return openAIGatewayError(err);
  }
}

/**
 * The SSE event that ends a stream that broke after its first byte, in the client's dialect,
 * exactly as each provider sends a mid-stream error (the dialect's own stream translator makes
 * it), so the client's SDK raises it. An OpenAI stream still ends with `[DONE]`.
 */
export function clientStreamError(surface: WireFormat, message: string): string {
  if (surface === "rest") return restStreamError(message);
  const e: CanonicalError = { status: 502, type: "api_error", message, code: "upstream_stream_broken" };
  let out = "";
  for (const ev of DIALECTS[surface].clientStream({ model: "", includeUsage: false }).error(e)) out += encodeSse(ev);
  return surface === "openai" ? `${out}data: [DONE]\n\n` : out;
}
