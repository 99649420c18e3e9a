import type { Surface } from "../config/schema.js";

/** What a client call asks for, independent of the path it came in on. */
export type EndpointKind = "chat" | "embeddings" | "messages" | "generate" | "stream_generate" | "rest";

export interface Endpoint {
  readonly kind: EndpointKind;
  readonly surface: Surface;
}

export const ENDPOINTS = {
  chat: { kind: "chat", surface: "openai" },
  embeddings: { kind: "embeddings", surface: "openai" },
  messages: { kind: "messages", surface: "anthropic" },
  generate: { kind: "generate", surface: "gemini" },
  stream_generate: { kind: "stream_generate", surface: "gemini" },
  rest: { kind: "rest", surface: "rest" },
} as const satisfies Record<EndpointKind, Endpoint>;

/** Whether an endpoint's body is a chat request (embeddings and REST are never translated). */
export function isChatEndpoint(kind: EndpointKind): boolean {
  return kind === "chat" || kind === "messages" || kind === "generate" || kind === "stream_generate";
}
