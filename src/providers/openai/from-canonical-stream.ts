import type { CanonicalError, ChatCompletionChunk } from "../canonical.js";
import type { SseEvent } from "../sse.js";
import { type FromCanonicalStream, NO_EVENTS } from "../stream.js";
import { toOpenAIError } from "./errors.js";

export interface CanonicalToOpenAIStreamOptions {
  /** The client asked for `stream_options.include_usage`; otherwise the usage chunk is withheld. */
  includeUsage: boolean;
  /** Model name the client sees (its alias); chunks are renamed in place. */
  model?: string;
}

/** Canonical chunks → an OpenAI client's stream: one `data:` per chunk, then `data: [DONE]`. */
export class CanonicalToOpenAIStream implements FromCanonicalStream {
  private readonly includeUsage: boolean;
  private readonly model: string | undefined;

  constructor(opts: CanonicalToOpenAIStreamOptions) {
    this.includeUsage = opts.includeUsage;
    this.model = opts.model;
  }

  /** Note: may rename `chunk.model` in place (the chunk is the translator's own, not shared). */
  push(chunk: ChatCompletionChunk): SseEvent[] {
    if (chunk.usage != null && !this.includeUsage) {
      if (chunk.choices.length === 0) return NO_EVENTS;
      chunk.usage = undefined;
    }
    if (this.model !== undefined) chunk.model = this.model;
    return [{ data: JSON.stringify(chunk) }];
  }

  end(): SseEvent[] {
    return [{ data: "[DONE]" }];
  }

  error(e: CanonicalError): SseEvent[] {
    return [{ data: JSON.stringify(toOpenAIError(e).body) }];
  }
}
