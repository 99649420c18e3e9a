import { openAICompatible } from "../openai/adapter.js";

/** DeepSeek: OpenAI's API; an account out of balance answers 402 (a quota key problem by default). */
export const deepseek = openAICompatible({ name: "deepseek", baseUrl: "https://api.deepseek.com/v1", embeddings: false });
