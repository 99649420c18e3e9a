import { openAICompatible } from "../openai/adapter.js";

/** Perplexity: OpenAI's chat completions at the root of its host (no /v1), no embeddings. */
export const perplexity = openAICompatible({ name: "perplexity", baseUrl: "https://api.perplexity.ai", embeddings: false });
