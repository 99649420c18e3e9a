import type { CanonicalError, ChatCompletionChunk, ChunkChoice, ToolCallDelta, Usage } from "../canonical.js";
import { newId } from "../ids.js";
import type { SseEvent } from "../sse.js";
import { type FromCanonicalStream, NO_EVENTS } from "../stream.js";
import { toAnthropicError } from "./errors.js";
import { finishToAnthropic } from "./stop-reason.js";
import type { AnthropicStopReason } from "./types.js";
import { usageToAnthropic } from "./usage.js";

export interface CanonicalToAnthropicStreamOptions {
  /** Model name the client sees. */
  model: string;
  /** Message id; a fresh `msg_…` when absent. */
  id?: string;
}

const NONE = 0;
const TEXT = 1;
const TOOL = 2;

/**
 * Canonical chunks → an Anthropic client's stream. Content opens a text block, each new tool-call
 * index opens a tool_use block (closing the previous one: Anthropic blocks do not interleave, and
 * neither do OpenAI's tool-call deltas). The usage chunk arrives after the finish chunk, so
 * message_delta and message_stop are written by `end()`.
 *
 * Only choice 0 is streamed (an Anthropic client never asks for n > 1).
 */
export class CanonicalToAnthropicStream implements FromCanonicalStream {
  private readonly model: string;
  private readonly id: string;
  private started = false;
  private ended = false;
  private open = NONE;
  /** Index of the last block opened, -1 before the first. */
  private block = -1;
  /** Canonical tool-call index of the open (or last) tool block. */
  private tool = -1;
  private stopReason: AnthropicStopReason | null = null;
  private usage: Usage | null = null;

  constructor(opts: CanonicalToAnthropicStreamOptions) {
    this.model = opts.model;
    this.id = opts.id ?? newId("msg_");
  }

  push(chunk: ChatCompletionChunk): SseEvent[] {
    if (this.ended) return NO_EVENTS;
    if (chunk.usage) this.usage = chunk.usage;
    const choice = choiceZero(chunk.choices);
    if (this.started && choice === undefined) return NO_EVENTS;
    const out: SseEvent[] = [];
    if (!this.started) this.start(out);
    if (choice === undefined) return out;
    const d = choice.delta;
    const text = d.content || d.refusal;
    if (text) {
      if (this.open !== TEXT) this.openBlock(out, TEXT, '{"type":"text","text":""}');
      out.push({
        event: "content_block_delta",
        data: `{"type":"content_block_delta","index":${this.block},"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}`,
      });
    }
    if (d.tool_calls) for (const tc of d.tool_calls) if (!this.toolDelta(out, tc)) return out;
    if (choice.finish_reason) {
      this.closeBlock(out);
      this.stopReason = finishToAnthropic(choice.finish_reason);
    }
    return out;
  }

  end(): SseEvent[] {
    if (this.ended) return NO_EVENTS;
    const out: SseEvent[] = [];
    if (!this.started) this.start(out);
    this.closeBlock(out);
    this.ended = true;
    const u = usageToAnthropic(this.usage);
    out.push({
      event: "message_delta",
      data: JSON.stringify({ type: "message_delta", delta: { stop_reason: this.stopReason ?? "end_turn", stop_sequence: null }, usage: u }),
    });
    out.push({ event: "message_stop", data: '{"type":"message_stop"}' });
    return out;
  }

  error(e: CanonicalError): SseEvent[] {
    this.ended = true;
    return [{ event: "error", data: JSON.stringify(toAnthropicError(e).body) }];
  }

  private start(out: SseEvent[]): void {
    this.started = true;
    const u = usageToAnthropic(this.usage);
    const message = {
      id: this.id,
      type: "message",
      role: "assistant",
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: u,
    };
    out.push({ event: "message_start", data: JSON.stringify({ type: "message_start", message }) });
  }

  /** False when the deltas cannot be expressed (an earlier call resumed): an error event was written. */
  private toolDelta(out: SseEvent[], tc: ToolCallDelta): boolean {
    if (this.open !== TOOL || tc.index !== this.tool) {
      if (tc.index <= this.tool) {
        out.push(
          ...this.error({
            status: 502,
            type: "api_error",
            message: "upstream interleaved tool-call deltas, which an Anthropic stream cannot carry",
          }),
        );
        return false;
      }
      this.tool = tc.index;
      const start = { type: "tool_use", id: tc.id ?? newId("toolu_"), name: tc.function?.name ?? "", input: {} };
      this.openBlock(out, TOOL, JSON.stringify(start));
    }
    const args = tc.function?.arguments;
    if (args) {
      out.push({
        event: "content_block_delta",
        data: `{"type":"content_block_delta","index":${this.block},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(args)}}}`,
      });
    }
    return true;
  }

  private openBlock(out: SseEvent[], kind: number, contentBlock: string): void {
    this.closeBlock(out);
    this.open = kind;
    this.block++;
    out.push({
      event: "content_block_start",
      data: `{"type":"content_block_start","index":${this.block},"content_block":${contentBlock}}`,
    });
  }

  private closeBlock(out: SseEvent[]): void {
    if (this.open === NONE) return;
    this.open = NONE;
    out.push({ event: "content_block_stop", data: `{"type":"content_block_stop","index":${this.block}}` });
  }
}

function choiceZero(choices: ChunkChoice[]): ChunkChoice | undefined {
  for (const c of choices) if (c.index === 0) return c;
  return undefined;
}
