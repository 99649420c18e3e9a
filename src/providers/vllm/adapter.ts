import { openAICompatible } from "../openai/adapter.js";

/** vLLM's OpenAI-compatible server on this machine (`vllm serve`); a key only when it was started with --api-key. */
export const vllm = openAICompatible({ name: "vllm", baseUrl: "http://127.0.0.1:8000/v1" });
