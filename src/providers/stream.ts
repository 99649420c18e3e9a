import type { CanonicalError, ChatCompletionChunk, Usage } from "./canonical.js";
import type { SseEvent } from "./sse.js";

/**
 * The two stream translator roles every dialect fills. A streamed answer crossing dialects goes
 * upstream SSE → SseParser → <Upstream>ToCanonicalStream → CanonicalTo<Client>Stream → encodeSse.
 * One instance per stream; fixed-shape classes; nothing buffered except a Gemini client's partial
 * tool calls (Gemini sends a call whole).
 */
export interface ToCanonicalStream {
  /** One upstream event → zero or more canonical chunks. Once `error` is set, further events yield nothing. */
  push(ev: SseEvent): ChatCompletionChunk[];
  /** The upstream closed. Sets `error` to a stream_truncated error when the end marker never came. */
  end(): ChatCompletionChunk[];
  /** The upstream's end marker was seen ([DONE], message_stop, a Gemini finishReason). */
  readonly done: boolean;
  /** An error the upstream sent in the stream (after a 200), or a malformed/truncated stream. */
  readonly error: CanonicalError | null;
  /** Usage as last reported (cumulative), for accounting, whether or not the client asked for it. */
  readonly usage: Usage | null;
}

export interface FromCanonicalStream {
  /** One canonical chunk → zero or more client events. */
  push(chunk: ChatCompletionChunk): SseEvent[];
  /** The answer is complete: closing events (`[DONE]`, `message_stop`, a final Gemini chunk). */
  end(): SseEvent[];
  /** The answer failed after the client's 200: the dialect's in-stream error event. */
  error(e: CanonicalError): SseEvent[];
}

/** Shared empty results (frozen: a caller that pushes into one gets a TypeError, not a corrupted constant). */
export const NO_CHUNKS = Object.freeze([]) as unknown as ChatCompletionChunk[];
export const NO_EVENTS = Object.freeze([]) as unknown as SseEvent[];

/** A canonical chunk with one choice; `delta` is the caller's. */
export function chunkOf(id: string, created: number, model: string, choice: ChatCompletionChunk["choices"][number]): ChatCompletionChunk {
  return { id, object: "chat.completion.chunk", created, model, choices: [choice] };
}

/**
 * Choice and tool-call indexes a stream may use. OpenAI's `n` stops at 128; the bound keeps the
 * client translators' per-index state small (a Gemini client's end() walks its choices by index:
 * an index in the billions from a hostile upstream would hold the event loop for good).
 */
export const MAX_STREAM_INDEX = 1024;

export function isStreamIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < MAX_STREAM_INDEX;
}
