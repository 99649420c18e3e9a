import type { Surface } from "../../src/config/schema.js";

/**
 * Is `body` an error in the client's dialect, as its SDK reads one? OpenAI `{error: {message,
 * type}}`, Anthropic `{type: "error", error: {type, message}}`, Gemini `{error: {code, message,
 * status}}` (code = the HTTP status), REST `{error: {code, message}}`.
 */
export function isDialectError(surface: Surface, status: number, body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const b = body as { type?: unknown; error?: Record<string, unknown> };
  const e = b.error;
  if (typeof e !== "object" || e === null || typeof e.message !== "string") return false;
  switch (surface) {
    case "openai":
      return typeof e.type === "string";
    case "anthropic":
      return b.type === "error" && typeof e.type === "string";
    case "gemini":
      return e.code === status && typeof e.status === "string";
    case "rest":
      return typeof e.code === "string";
  }
}
