import type { Usage } from "../canonical.js";
import { tokenCount } from "../token-count.js";
import type { AnthropicUsage } from "./types.js";

/**
 * Anthropic counts cached input apart: `input_tokens` excludes cache reads and cache writes,
 * whereas OpenAI's `prompt_tokens` includes cached tokens. Canonical follows OpenAI.
 */
export function usageFromAnthropic(u: Partial<AnthropicUsage> | null | undefined): Usage {
  const input = tokenCount(u?.input_tokens);
  const read = tokenCount(u?.cache_read_input_tokens);
  const write = tokenCount(u?.cache_creation_input_tokens);
  const output = tokenCount(u?.output_tokens);
  const prompt = input + read + write;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
  if (read > 0 || write > 0) {
    usage.prompt_tokens_details = { cached_tokens: read };
    if (write > 0) usage.prompt_tokens_details.cache_creation_tokens = write;
  }
  return usage;
}

export function usageToAnthropic(u: Usage | null | undefined): AnthropicUsage {
  if (!u) return { input_tokens: 0, output_tokens: 0 };
  const read = u.prompt_tokens_details?.cached_tokens ?? 0;
  const write = u.prompt_tokens_details?.cache_creation_tokens ?? 0;
  const out: AnthropicUsage = { input_tokens: Math.max(0, u.prompt_tokens - read - write), output_tokens: u.completion_tokens };
  if (read > 0) out.cache_read_input_tokens = read;
  if (write > 0) out.cache_creation_input_tokens = write;
  return out;
}
