import type { FinishReason } from "../canonical.js";
import type { GeminiFinishReason } from "./types.js";

/**
 * finishReason ⇄ finish_reason. Gemini ends a turn that called functions with STOP, so STOP
 * reads as `tool_calls` when the candidate holds a functionCall. Every safety-like reason is the
 * content filter; MALFORMED_FUNCTION_CALL and the rest end the turn as `stop`.
 */
export function finishFromGemini(r: string | undefined, hadCalls: boolean): FinishReason | null {
  switch (r) {
    case undefined:
    case "FINISH_REASON_UNSPECIFIED":
      return null;
    case "STOP":
      return hadCalls ? "tool_calls" : "stop";
    case "MAX_TOKENS":
      return "length";
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
      return "content_filter";
    default:
      return hadCalls ? "tool_calls" : "stop";
  }
}

export function finishToGemini(r: FinishReason | null | undefined): GeminiFinishReason | undefined {
  switch (r) {
    case "stop":
    case "tool_calls":
    case "function_call":
      return "STOP";
    case "length":
      return "MAX_TOKENS";
    case "content_filter":
      return "SAFETY";
    default:
      return undefined;
  }
}
