import { openAICompatible } from "../openai/adapter.js";

/** OpenRouter: OpenAI's API in front of many providers; no credit left answers 402. */
export const openrouter = openAICompatible({ name: "openrouter", baseUrl: "https://openrouter.ai/api/v1" });
