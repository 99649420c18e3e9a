import type { FinishReason } from "../canonical.js";
import type { AnthropicStopReason } from "./types.js";

/**
 * stop_reason ⇄ finish_reason. `stop_sequence` folds into `stop` (OpenAI does not distinguish);
 * `pause_turn` (a server tool paused a long turn) reads as `stop` because the turn did end;
 * `refusal` is the content filter.
 */
export function finishFromAnthropic(r: string | null | undefined): FinishReason | null {
  switch (r) {
    case "end_turn":
    case "stop_sequence":
    case "pause_turn":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    case null:
    case undefined:
      return null;
    default:
      return "stop";
  }
}

export function finishToAnthropic(r: FinishReason | null | undefined): AnthropicStopReason | null {
  switch (r) {
    case "stop":
      return "end_turn";
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return null;
  }
}
