import type { CanonicalError, ChatCompletionChunk, ChunkDelta, ToolCallDelta, Usage } from "../canonical.js";
import { isRecord, malformedStreamError, truncatedStreamError } from "../errors.js";
import { newId, nowSeconds } from "../ids.js";
import type { SseEvent } from "../sse.js";
import { NO_CHUNKS, type ToCanonicalStream, chunkOf, isStreamIndex } from "../stream.js";
import { fromGeminiError } from "./errors.js";
import { finishFromGemini } from "./finish-reason.js";
import { toolCallFrom } from "./response.js";
import type { GeminiCandidate, GeminiResponse } from "./types.js";
import { usageFromGemini } from "./usage.js";

/**
 * A Gemini upstream stream (`streamGenerateContent?alt=sse`) → canonical chunks. Each event is a
 * whole GenerateContentResponse holding the next piece of each candidate; a function call
 * arrives whole, so it becomes one tool-call delta with all its arguments. There is no end
 * marker: the stream is complete once every candidate has a finishReason, and the usage chunk
 * (cumulative usageMetadata) is emitted by `end()`.
 */
export class GeminiToCanonicalStream implements ToCanonicalStream {
  done = false;
  error: CanonicalError | null = null;
  usage: Usage | null = null;
  private readonly includeUsage: boolean;
  private readonly created = nowSeconds();
  private id = "";
  private model = "";
  /** Per candidate index: tool calls so far (-1 = candidate not seen yet). */
  private readonly tools: number[] = [];
  private readonly finished: boolean[] = [];
  private seen = 0;
  private finishedCount = 0;

  constructor(opts: { includeUsage: boolean }) {
    this.includeUsage = opts.includeUsage;
  }

  push(ev: SseEvent): ChatCompletionChunk[] {
    if (this.error) return NO_CHUNKS;
    let obj: unknown;
    try {
      obj = JSON.parse(ev.data);
    } catch {
      this.error = malformedStreamError("data is not JSON");
      return NO_CHUNKS;
    }
    if (!isRecord(obj)) {
      this.error = malformedStreamError("not a JSON object");
      return NO_CHUNKS;
    }
    if (isRecord(obj.error)) {
      // The code is the upstream's word: one that is not an HTTP error status would mislead the retry rules.
      const code = obj.error.code;
      this.error = fromGeminiError(typeof code === "number" && Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500, obj);
      return NO_CHUNKS;
    }
    const r = obj as GeminiResponse;
    if (this.id === "") {
      this.id = r.responseId ?? newId("chatcmpl-");
      this.model = r.modelVersion ?? "";
    }
    if (r.usageMetadata) this.usage = usageFromGemini(r.usageMetadata);
    const cands = r.candidates;
    if (!cands || cands.length === 0) {
      if (!r.promptFeedback?.blockReason) return NO_CHUNKS;
      this.done = true;
      return [
        chunkOf(this.id, this.created, this.model, {
          index: 0,
          delta: { role: "assistant", content: "" },
          finish_reason: "content_filter",
        }),
      ];
    }
    let out = NO_CHUNKS;
    for (let k = 0; k < cands.length; k++) {
      const raw: unknown = cands[k];
      if (!isRecord(raw)) {
        this.error = malformedStreamError(`candidates[${k}] is not an object`);
        return out;
      }
      const c = raw as GeminiCandidate;
      const idx = c.index ?? k;
      const parts: unknown = c.content?.parts;
      if (!isStreamIndex(idx) || (parts !== undefined && !Array.isArray(parts))) {
        this.error = malformedStreamError(`candidates[${k}] has no valid index (0-1023) or parts list`);
        return out;
      }
      const chunk = this.delta(c, idx);
      if (chunk) {
        if (out === NO_CHUNKS) out = [chunk];
        else out.push(chunk);
      }
      const fr = c.finishReason;
      if (fr !== undefined && fr !== "FINISH_REASON_UNSPECIFIED" && !this.finished[idx]) {
        this.finished[idx] = true;
        this.finishedCount++;
        const f = chunkOf(this.id, this.created, this.model, {
          index: idx,
          delta: {},
          finish_reason: finishFromGemini(fr, (this.tools[idx] ?? 0) > 0),
        });
        if (out === NO_CHUNKS) out = [f];
        else out.push(f);
      }
    }
    if (this.finishedCount >= this.seen) this.done = true;
    return out;
  }

  end(): ChatCompletionChunk[] {
    if (this.error) return NO_CHUNKS;
    if (!this.done) {
      this.error = truncatedStreamError("a finishReason");
      return NO_CHUNKS;
    }
    if (!this.includeUsage || !this.usage) return NO_CHUNKS;
    return [{ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [], usage: this.usage }];
  }

  /** The text and calls of one candidate in this event as one chunk, or null when it has neither. */
  private delta(c: GeminiCandidate, idx: number): ChatCompletionChunk | null {
    const first = this.tools[idx] === undefined;
    if (first) {
      this.tools[idx] = 0;
      this.seen++;
    }
    let text: string | undefined;
    let calls: ToolCallDelta[] | undefined;
    for (const p of c.content?.parts ?? []) {
      if (!isRecord(p) || p.thought) continue;
      if (typeof p.text === "string") {
        if (p.text.length > 0) text = text === undefined ? p.text : text + p.text;
      } else if (p.functionCall) {
        const call = toolCallFrom(p.functionCall, p.thoughtSignature);
        const index = this.tools[idx] ?? 0; // set to 0 above on the candidate's first event
        this.tools[idx] = index + 1;
        const d: ToolCallDelta = { index, id: call.id, type: "function", function: call.function };
        if (call.extra_content) d.extra_content = call.extra_content;
        (calls ??= []).push(d);
      }
    }
    if (!first && text === undefined && calls === undefined) return null;
    const delta: ChunkDelta = first ? { role: "assistant", content: text ?? "" } : {};
    if (!first && text !== undefined) delta.content = text;
    if (calls) delta.tool_calls = calls;
    return chunkOf(this.id, this.created, this.model, { index: idx, delta, finish_reason: null });
  }
}
