import { openAICompatible } from "../openai/adapter.js";

/** Ollama on this machine (its OpenAI-compatible API); it needs no key, any key is ignored. */
export const ollama = openAICompatible({ name: "ollama", baseUrl: "http://127.0.0.1:11434/v1" });
