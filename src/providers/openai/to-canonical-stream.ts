import type { CanonicalError, ChatCompletionChunk, Usage } from "../canonical.js";
import { isRecord, malformedStreamError, statusForErrorType, truncatedStreamError } from "../errors.js";
import type { SseEvent } from "../sse.js";
import { NO_CHUNKS, type ToCanonicalStream } from "../stream.js";
import { chunkProblem } from "./chunk-shape.js";
import { fromOpenAIError } from "./errors.js";
import { usageFromOpenAI } from "./usage.js";

/**
 * An OpenAI (or compatible) upstream stream → canonical chunks: each `data:` is a chunk already;
 * `[DONE]` ends it; a payload with `error` is a failure after the 200.
 */
export class OpenAIToCanonicalStream implements ToCanonicalStream {
  done = false;
  error: CanonicalError | null = null;
  usage: Usage | null = null;
  private sawFinish = false;

  push(ev: SseEvent): ChatCompletionChunk[] {
    if (this.done || this.error) return NO_CHUNKS;
    const data = ev.data;
    if (data === "[DONE]") {
      this.done = true;
      return NO_CHUNKS;
    }
    let obj: unknown;
    try {
      obj = JSON.parse(data);
    } catch {
      this.error = malformedStreamError("not JSON");
      return NO_CHUNKS;
    }
    if (!isRecord(obj)) {
      this.error = malformedStreamError("not a JSON object");
      return NO_CHUNKS;
    }
    if (obj.error !== undefined && obj.error !== null) {
      const e = fromOpenAIError(500, obj);
      // A mid-stream error has no status of its own; derive one from its type.
      const t = isRecord(obj.error) ? obj.error.type : undefined;
      if (t === "invalid_request_error") e.status = statusForErrorType((e.type = "invalid_request_error"));
      else if (t === "rate_limit_error" || t === "tokens" || t === "requests") e.status = statusForErrorType((e.type = "rate_limit_error"));
      this.error = e;
      return NO_CHUNKS;
    }
    const problem = chunkProblem(obj);
    if (problem !== "") {
      this.error = malformedStreamError(problem);
      return NO_CHUNKS;
    }
    const chunk = obj as unknown as ChatCompletionChunk;
    // Counts the ledger can price, also for the client translators that re-express them.
    if (isRecord(chunk.usage)) chunk.usage = this.usage = usageFromOpenAI(chunk.usage);
    else if (chunk.usage !== undefined) chunk.usage = null;
    for (const c of chunk.choices) if (c.finish_reason) this.sawFinish = true;
    return [chunk];
  }

  end(): ChatCompletionChunk[] {
    if (!this.done && !this.error) {
      // Some OpenAI-compatible servers close without [DONE]; a finish reason is end enough.
      if (this.sawFinish) this.done = true;
      else this.error = truncatedStreamError("[DONE]");
    }
    return NO_CHUNKS;
  }
}
