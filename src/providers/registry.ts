import type { ProviderAdapter } from "./adapter.js";
import { anthropic } from "./anthropic/adapter.js";
import { azure } from "./azure/adapter.js";
import { deepseek } from "./deepseek/adapter.js";
import { fireworks } from "./fireworks/adapter.js";
import { gemini } from "./gemini/adapter.js";
import { groq } from "./groq/adapter.js";
import { mistral } from "./mistral/adapter.js";
import { ollama } from "./ollama/adapter.js";
import { openai } from "./openai/adapter.js";
import { openaiCompatible } from "./openai-compatible/adapter.js";
import { openrouter } from "./openrouter/adapter.js";
import { perplexity } from "./perplexity/adapter.js";
import { rest } from "./rest/adapter.js";
import { together } from "./together/adapter.js";
import { vllm } from "./vllm/adapter.js";

/**
 * Every provider a target may name, one line each. Adding a provider: a folder with its
 * adapter.ts (most are one call of openAICompatible) and a line here; the config schema, the
 * environment shortcut, docs and the engine take it from this table.
 */
export const PROVIDERS = {
  openai,
  "openai-compatible": openaiCompatible,
  azure,
  groq,
  deepseek,
  mistral,
  together,
  openrouter,
  fireworks,
  perplexity,
  ollama,
  vllm,
  anthropic,
  gemini,
  rest,
} as const satisfies Record<string, ProviderAdapter>;

export type ProviderName = keyof typeof PROVIDERS;

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as [ProviderName, ...ProviderName[]];

export function adapterOf(name: ProviderName): ProviderAdapter {
  return PROVIDERS[name];
}
