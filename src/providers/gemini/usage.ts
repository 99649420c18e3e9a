import type { Usage } from "../canonical.js";
import type { GeminiUsageMetadata } from "./types.js";

/**
 * Gemini counts thinking apart from the answer (`thoughtsTokenCount`); both are billed as output,
 * so canonical completion_tokens is their sum, with the thoughts as reasoning_tokens. The prompt
 * count already includes cached tokens, as OpenAI's does.
 */
export function usageFromGemini(m: GeminiUsageMetadata | undefined): Usage {
  const prompt = (m?.promptTokenCount ?? 0) + (m?.toolUsePromptTokenCount ?? 0);
  const thoughts = m?.thoughtsTokenCount ?? 0;
  const completion = (m?.candidatesTokenCount ?? 0) + thoughts;
  const u: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: m?.totalTokenCount ?? prompt + completion };
  if (m?.cachedContentTokenCount) u.prompt_tokens_details = { cached_tokens: m.cachedContentTokenCount };
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
