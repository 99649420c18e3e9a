import type { ChatCompletion } from "../canonical.js";
import { isRecord } from "../errors.js";
import { usageFromOpenAI } from "./usage.js";
import { UpstreamFormatError } from "../../errors.js";

/**
 * OpenAI responses are canonical already: reading one only checks its shape, and writing one for
 * a client only renames the model back to what the client asked for.
 */

/** An upstream chat.completion body → canonical. Throws UpstreamFormatError when it is not one. */
export function fromOpenAIResponse(body: unknown): ChatCompletion {
  if (!isRecord(body) || !Array.isArray(body.choices)) throw new UpstreamFormatError("expected a chat.completion object with choices");
  // Counts the ledger can price (the answer's usage is what a translated request is charged).
  body.usage = isRecord(body.usage) ? usageFromOpenAI(body.usage) : undefined;
  return body as unknown as ChatCompletion;
}

/** Canonical → the body an OpenAI client gets; `model` renames (the client's alias). */
export function toOpenAIResponse(c: ChatCompletion, model?: string): ChatCompletion {
  return model === undefined || model === c.model ? c : { ...c, model };
}
