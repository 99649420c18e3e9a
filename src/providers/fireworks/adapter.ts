import { openAICompatible } from "../openai/adapter.js";

/** Fireworks AI: OpenAI's API under /inference/v1. */
export const fireworks = openAICompatible({ name: "fireworks", baseUrl: "https://api.fireworks.ai/inference/v1" });
