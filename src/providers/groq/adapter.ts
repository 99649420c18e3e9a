import { openAICompatible } from "../openai/adapter.js";

/** Groq: OpenAI's API (rate limits in OpenAI's `x-ratelimit-*` headers). */
export const groq = openAICompatible({ name: "groq", baseUrl: "https://api.groq.com/openai/v1" });
