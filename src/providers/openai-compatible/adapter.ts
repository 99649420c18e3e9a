import { openAICompatible } from "../openai/adapter.js";

/**
 * Any server that speaks OpenAI's API and has no adapter of its own (LiteLLM, LM Studio, a
 * company proxy): base_url is required. A `{model}` slot in it takes the target's model.
 */
export const openaiCompatible = openAICompatible({ name: "openai-compatible", baseUrlExample: "http://127.0.0.1:8000/v1" });
