import type { CanonicalError, ChatCompletionChunk, ChunkDelta, FinishReason, Usage } from "../canonical.js";
import { isRecord, malformedStreamError, statusForErrorType, truncatedStreamError } from "../errors.js";
import { nowSeconds } from "../ids.js";
import type { SseEvent } from "../sse.js";
import { NO_CHUNKS, type ToCanonicalStream, chunkOf } from "../stream.js";
import { fromAnthropicError } from "./errors.js";
import { finishFromAnthropic } from "./stop-reason.js";
import { usageFromAnthropic } from "./usage.js";

/**
 * An Anthropic upstream stream → canonical chunks.
 *
 *   message_start ─► (content_block_start ─► content_block_delta* ─► content_block_stop)*
 *                 ─► message_delta (stop_reason, usage) ─► message_stop
 *
 * Each tool_use block becomes the next tool-call index; its input_json_delta fragments become
 * argument fragments. Thinking blocks are skipped, `ping` is ignored, `error` sets `error`.
 */
export class AnthropicToCanonicalStream implements ToCanonicalStream {
  done = false;
  error: CanonicalError | null = null;
  usage: Usage | null = null;
  private readonly includeUsage: boolean;
  private readonly created = nowSeconds();
  private id = "";
  private model = "";
  /** Content block index → tool-call index, or -1 for a block that is not a tool call. */
  private readonly blockTool: number[] = [];
  private tools = 0;
  private inputTokens = 0;
  private cacheRead = 0;
  private cacheWrite = 0;
  private outputTokens = 0;

  constructor(opts: { includeUsage: boolean }) {
    this.includeUsage = opts.includeUsage;
  }

  push(ev: SseEvent): ChatCompletionChunk[] {
    if (this.done || this.error || ev.event === "ping") return NO_CHUNKS;
    let obj: unknown;
    try {
      obj = JSON.parse(ev.data);
    } catch {
      this.error = malformedStreamError(`${ev.event ?? "message"} data is not JSON`);
      return NO_CHUNKS;
    }
    if (!isRecord(obj)) {
      this.error = malformedStreamError("not a JSON object");
      return NO_CHUNKS;
    }
    switch (obj.type) {
      case "message_start":
        return this.messageStart(obj.message);
      case "content_block_start":
        return this.blockStart(obj.index as number, obj.content_block);
      case "content_block_delta":
        return this.blockDelta(obj.index as number, obj.delta);
      case "message_delta":
        return this.messageDelta(obj.delta, obj.usage);
      case "message_stop":
        this.done = true;
        return this.includeUsage
          ? [{ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [], usage: this.usage }]
          : NO_CHUNKS;
      case "error": {
        const e = fromAnthropicError(0, obj);
        e.status = e.type === "overloaded_error" ? 529 : statusForErrorType(e.type);
        this.error = e;
        return NO_CHUNKS;
      }
      default:
        return NO_CHUNKS; // content_block_stop, ping, and event types added later
    }
  }

  end(): ChatCompletionChunk[] {
    if (!this.done && !this.error) this.error = truncatedStreamError("message_stop");
    return NO_CHUNKS;
  }

  private one(delta: ChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk[] {
    return [chunkOf(this.id, this.created, this.model, { index: 0, delta, finish_reason: finish })];
  }

  private messageStart(message: unknown): ChatCompletionChunk[] {
    if (!isRecord(message)) {
      this.error = malformedStreamError("message_start without message");
      return NO_CHUNKS;
    }
    this.id = typeof message.id === "string" ? message.id : "";
    this.model = typeof message.model === "string" ? message.model : "";
    this.readUsage(message.usage);
    return this.one({ role: "assistant", content: "" });
  }

  private blockStart(index: number, block: unknown): ChatCompletionChunk[] {
    if (!isRecord(block)) return NO_CHUNKS;
    if (block.type === "tool_use") {
      const tool = this.tools++;
      this.blockTool[index] = tool;
      return this.one({
        tool_calls: [{ index: tool, id: String(block.id), type: "function", function: { name: String(block.name), arguments: "" } }],
      });
    }
    this.blockTool[index] = -1;
    if (block.type === "text" && typeof block.text === "string" && block.text.length > 0) return this.one({ content: block.text });
    return NO_CHUNKS;
  }

  private blockDelta(index: number, delta: unknown): ChatCompletionChunk[] {
    if (!isRecord(delta)) return NO_CHUNKS;
    if (delta.type === "text_delta") {
      const text = delta.text;
      return typeof text === "string" && text.length > 0 ? this.one({ content: text }) : NO_CHUNKS;
    }
    if (delta.type === "input_json_delta") {
      const tool = this.blockTool[index];
      const json = delta.partial_json;
      if (tool === undefined || tool < 0 || typeof json !== "string" || json.length === 0) return NO_CHUNKS;
      return this.one({ tool_calls: [{ index: tool, function: { arguments: json } }] });
    }
    return NO_CHUNKS; // thinking_delta, signature_delta, citations_delta
  }

  private messageDelta(delta: unknown, usage: unknown): ChatCompletionChunk[] {
    this.readUsage(usage);
    const reason = isRecord(delta) ? finishFromAnthropic(delta.stop_reason as string | null) : null;
    return reason === null ? NO_CHUNKS : this.one({}, reason);
  }

  /** message_start carries input usage; message_delta the cumulative output (and, lately, input too). */
  private readUsage(u: unknown): void {
    if (!isRecord(u)) return;
    if (typeof u.input_tokens === "number") this.inputTokens = u.input_tokens;
    if (typeof u.cache_read_input_tokens === "number") this.cacheRead = u.cache_read_input_tokens;
    if (typeof u.cache_creation_input_tokens === "number") this.cacheWrite = u.cache_creation_input_tokens;
    if (typeof u.output_tokens === "number") this.outputTokens = u.output_tokens;
    this.usage = usageFromAnthropic({
      input_tokens: this.inputTokens,
      output_tokens: this.outputTokens,
      cache_read_input_tokens: this.cacheRead,
      cache_creation_input_tokens: this.cacheWrite,
    });
  }
}
