import type { Usage } from "../canonical.js";
import { tokenCount } from "../token-count.js";
import type { GeminiUsageMetadata } from "./types.js";

/**
 * Gemini counts thinking apart from the answer (`thoughtsTokenCount`); both are billed as output,
 * so canonical completion_tokens is their sum, with the thoughts as reasoning_tokens. The prompt
 * count already includes cached tokens, as OpenAI's does.
 */
export function usageFromGemini(m: GeminiUsageMetadata | undefined): Usage {
  const prompt = tokenCount(m?.promptTokenCount) + tokenCount(m?.toolUsePromptTokenCount);
  const thoughts = tokenCount(m?.thoughtsTokenCount);
  const completion = tokenCount(m?.candidatesTokenCount) + thoughts;
  const total = m?.totalTokenCount === undefined ? prompt + completion : tokenCount(m.totalTokenCount);
  const u: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total };
  const cached = tokenCount(m?.cachedContentTokenCount);
  if (cached > 0) u.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts > 0) u.completion_tokens_details = { reasoning_tokens: thoughts };
  return u;
}

export function usageToGemini(u: Usage | null | undefined): GeminiUsageMetadata | undefined {
  if (!u) return undefined;
  const thoughts = u.completion_tokens_details?.reasoning_tokens ?? 0;
  const m: GeminiUsageMetadata = {
    promptTokenCount: u.prompt_tokens,
    candidatesTokenCount: u.completion_tokens - thoughts,
    totalTokenCount: u.total_tokens,
  };
  const cached = u.prompt_tokens_details?.cached_tokens;
  if (cached) m.cachedContentTokenCount = cached;
  if (thoughts > 0) m.thoughtsTokenCount = thoughts;
  return m;
}
