import { openAICompatible } from "../openai/adapter.js";

/** Mistral's La Plateforme: OpenAI's chat and embeddings shapes. */
export const mistral = openAICompatible({ name: "mistral", baseUrl: "https://api.mistral.ai/v1" });
