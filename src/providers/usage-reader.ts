import { usageFromAnthropic } from "./anthropic/usage.js";
import type { AnthropicUsage } from "./anthropic/types.js";
import type { Dialect, Usage } from "./canonical.js";
import { isRecord } from "./errors.js";
import { usageFromGemini } from "./gemini/usage.js";
import { usageFromOpenAI } from "./openai/usage.js";

/**
 * Token usage read from a dialect's own answers, for cost accounting when the gateway passes an
 * answer through untranslated. `read` takes each JSON object of the answer: the whole body, or
 * each stream event's data. Where each dialect says it:
 *
 *   openai     `usage` of the body, or of the last stream chunk (stream_options.include_usage)
 *   anthropic  `usage` of the body; in a stream, message_start's message.usage (input) and
 *              message_delta's usage (cumulative output), merged
 *   gemini     `usageMetadata` of the body or of each chunk (cumulative: the last wins)
 */
export class UsageReader {
  private found: Usage | null = null;
  private anthropic: Partial<AnthropicUsage> | null = null;

  constructor(private readonly dialect: Dialect) {}

  get usage(): Usage | null {
    return this.found;
  }

  read(obj: unknown): void {
    if (!isRecord(obj)) return;
    switch (this.dialect) {
      case "openai": {
        const u = obj["usage"];
        if (isRecord(u)) this.found = usageFromOpenAI(u);
        return;
      }
      case "gemini": {
        const m = obj["usageMetadata"];
        if (isRecord(m)) this.found = usageFromGemini(m);
        return;
      }
      case "anthropic": {
        const message = obj["message"];
        const u = obj["type"] === "message_start" && isRecord(message) ? message["usage"] : obj["usage"];
        if (!isRecord(u)) return;
        const merged: Partial<AnthropicUsage> = (this.anthropic ??= {});
        for (const k of ANTHROPIC_FIELDS) {
          const v = u[k];
          if (typeof v === "number" && v > (merged[k] ?? 0)) merged[k] = v;
        }
        this.found = usageFromAnthropic(merged);
        return;
      }
    }
  }
}

const ANTHROPIC_FIELDS = ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"] as const;
