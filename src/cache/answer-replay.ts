import type { ChatCompletion, Dialect } from "../providers/canonical.js";
import { encodeSse } from "../providers/sse.js";
import { DIALECTS } from "../providers/translators.js";
import { completionChunks } from "./completion-chunks.js";

/**
 * A stored canonical completion → what a client of any dialect receives, through the same client
 * translators a live answer crosses (src/exchange/answer-translation.ts), so a cached answer
 * reads exactly like a live one: an OpenAI stream ends with `data: [DONE]`, an Anthropic one runs
 * message_start … message_stop, a Gemini one closes with its finishReason and usageMetadata.
 * Pure: no I/O, and the completion is not modified (a cached entry may be replayed many times).
 */

/**
 * The JSON body of a non-streamed answer. `model` is the model the client sees (the name it
 * asked for).
 */
export function replayJson(client: Dialect, c: ChatCompletion, model: string): string {
  return JSON.stringify(DIALECTS[client].toClientResponse(c, model));
}

/**
 * The whole text of a streamed answer: every event, closing ones included. `includeUsage` is an
 * OpenAI client's `stream_options.include_usage` (other dialects always carry usage).
 */
export function replayStream(client: Dialect, c: ChatCompletion, model: string, includeUsage: boolean): string {
  const down = DIALECTS[client].clientStream({ model, includeUsage });
  const chunks = completionChunks(c);
  let out = "";
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i];
    if (chunk === undefined) continue;
    for (const ev of down.push(chunk)) out += encodeSse(ev);
  }
  for (const ev of down.end()) out += encodeSse(ev);
  return out;
}
