import type { Surface } from "../config/schema.js";

/**
 * The SSE event that ends a broken stream, in the client's dialect, shaped as each provider
 * sends a mid-stream error (OpenAI: a data payload with `error`; Anthropic: `event: error`;
 * Gemini: a data payload with `error`), so the client's SDK raises it as an API error. An OpenAI
 * stream still ends with `[DONE]`, for clients that read until it.
 */
export function streamErrorEvent(surface: Surface, message: string): string {
  switch (surface) {
    case "anthropic":
      return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: "api_error", message } })}\n\n`;
    case "gemini":
      return `data: ${JSON.stringify({ error: { code: 502, message, status: "UNAVAILABLE" } })}\n\n`;
    case "rest":
      return `event: error\ndata: ${JSON.stringify({ error: { code: "upstream_stream_broken", message } })}\n\n`;
    default:
      return `data: ${JSON.stringify({ error: { message, type: "api_error", param: null, code: "upstream_stream_broken" } })}\n\ndata: [DONE]\n\n`;
  }
}
