import type { Usage } from "../canonical.js";
import { isRecord } from "../errors.js";
import { tokenCount } from "../token-count.js";

/** OpenAI's usage as counts the ledger can price, with the counts an embeddings answer leaves out made explicit. */
export function usageFromOpenAI(u: Record<string, unknown>): Usage {
  const prompt = tokenCount(u["prompt_tokens"]);
  const completion = tokenCount(u["completion_tokens"]);
  const out: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: tokenCount(u["total_tokens"]) || prompt + completion,
  };
  const details = u["prompt_tokens_details"];
  if (isRecord(details) && tokenCount(details["cached_tokens"]) > 0)
    out.prompt_tokens_details = { cached_tokens: tokenCount(details["cached_tokens"]) };
  const completionDetails = u["completion_tokens_details"];
  if (isRecord(completionDetails) && tokenCount(completionDetails["reasoning_tokens"]) > 0)
    out.completion_tokens_details = { reasoning_tokens: tokenCount(completionDetails["reasoning_tokens"]) };
  return out;
}
