import { openAICompatible } from "../openai/adapter.js";

/** Together AI: OpenAI's API (rate limits in `x-ratelimit-*` headers). */
export const together = openAICompatible({ name: "together", baseUrl: "https://api.together.xyz/v1" });
