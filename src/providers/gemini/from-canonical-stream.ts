import type { CanonicalError, ChatCompletionChunk, FinishReason, Usage } from "../canonical.js";
import { newId } from "../ids.js";
import type { SseEvent } from "../sse.js";
import { type FromCanonicalStream, NO_EVENTS } from "../stream.js";
import { toGeminiError } from "./errors.js";
import { finishToGemini } from "./finish-reason.js";
import { functionCallPart } from "./response.js";
import type { GeminiCandidate, GeminiPart, GeminiResponse } from "./types.js";
import { usageToGemini } from "./usage.js";

export interface CanonicalToGeminiStreamOptions {
  /** Model name the client sees (modelVersion). */
  model: string;
  /** responseId; a fresh one when absent. */
  id?: string;
}

class PendingCall {
  name = "";
  args = "";
  signature: string | undefined = undefined;
  constructor(public id: string) {}
}

class ChoiceState {
  readonly calls: PendingCall[] = [];
  finish: FinishReason | null = null;
}

/**
 * Canonical chunks → a Gemini client's stream. Text deltas go out at once, one
 * GenerateContentResponse each. Tool-call argument fragments are buffered (a Gemini
 * functionCall is whole) and sent with the finishReason and usageMetadata in the last event,
 * written by `end()` because canonical usage follows the finish chunk.
 */
export class CanonicalToGeminiStream implements FromCanonicalStream {
  private readonly model: string;
  private readonly id: string;
  /** `"modelVersion":…,"responseId":…` as JSON, built once for the text-delta fast path. */
  private readonly tail: string;
  private readonly choices: ChoiceState[] = [];
  private usage: Usage | null = null;
  private ended = false;

  constructor(opts: CanonicalToGeminiStreamOptions) {
    this.model = opts.model;
    this.id = opts.id ?? newId("resp_");
    this.tail = `"modelVersion":${JSON.stringify(this.model)},"responseId":${JSON.stringify(this.id)}`;
  }

  push(chunk: ChatCompletionChunk): SseEvent[] {
    if (this.ended) return NO_EVENTS;
    if (chunk.usage) this.usage = chunk.usage;
    let out = NO_EVENTS;
    for (const choice of chunk.choices) {
      const st = (this.choices[choice.index] ??= new ChoiceState());
      const d = choice.delta;
      const text = d.content || d.refusal;
      if (text) {
        const ev: SseEvent = {
          data: `{"candidates":[{"content":{"role":"model","parts":[{"text":${JSON.stringify(text)}}]},"index":${choice.index}}],${this.tail}}`,
        };
        if (out === NO_EVENTS) out = [ev];
        else out.push(ev);
      }
      if (d.tool_calls) {
        for (const tc of d.tool_calls) {
          const call = (st.calls[tc.index] ??= new PendingCall(tc.id ?? newId("call_")));
          if (tc.id) call.id = tc.id;
          const f = tc.function;
          if (f?.name && call.name === "") call.name = f.name;
          if (f?.arguments) call.args += f.arguments;
          const sig = tc.extra_content?.google?.thought_signature;
          if (sig) call.signature = sig;
        }
      }
      if (choice.finish_reason) st.finish = choice.finish_reason;
    }
    return out;
  }

  end(): SseEvent[] {
    if (this.ended) return NO_EVENTS;
    this.ended = true;
    const candidates: GeminiCandidate[] = [];
    for (let i = 0; i < this.choices.length; i++) {
      const st = this.choices[i];
      if (st === undefined) continue;
      const parts: GeminiPart[] = [];
      for (const c of st.calls) if (c) parts.push(functionCallPart(c.id, c.name, c.args, c.signature));
      if (parts.length === 0) parts.push({ text: "" });
      candidates.push({ content: { role: "model", parts }, finishReason: finishToGemini(st.finish) ?? "STOP", index: i });
    }
    if (candidates.length === 0) candidates.push({ content: { role: "model", parts: [{ text: "" }] }, finishReason: "STOP", index: 0 });
    const last: GeminiResponse = { candidates, modelVersion: this.model, responseId: this.id };
    const u = usageToGemini(this.usage);
    if (u) last.usageMetadata = u;
    return [{ data: JSON.stringify(last) }];
  }

  error(e: CanonicalError): SseEvent[] {
    this.ended = true;
    return [{ data: JSON.stringify(toGeminiError(e).body) }];
  }
}
