import type { ChatCompletion, ChatCompletionChunk, Choice, Dialect, FinishReason, ToolCall, Usage } from "../providers/canonical.js";
import { isRecord } from "../providers/errors.js";
import { newId } from "../providers/ids.js";
import { SseParser } from "../providers/sse.js";
import { isStreamIndex, type ToCanonicalStream } from "../providers/stream.js";
import { DIALECTS } from "../providers/translators.js";

/**
 * Why a capture yielded no completion: a stable code for the cache step's metrics and logs. Never
 * the upstream's own words (an upstream error message may quote a key).
 *
 *   oversize        the body went over maxBytes (buffering stopped there)
 *   truncated       the stream closed before its end marker
 *   upstream_error  the stream carried the provider's error event
 *   malformed       not JSON, not the dialect's shape, or an event no translator could read
 *   incomplete      parsed, but a choice has no finish reason (or there is no choice at all)
 *   empty           no choice says anything (no text, refusal or tool call): a blocked prompt, a
 *                   Gemini `{}`; asking again may do better, so it is not worth an entry
 */
export type CaptureSkip = "oversize" | "truncated" | "upstream_error" | "malformed" | "incomplete" | "empty";

/** One tool call of a choice, assembled from its deltas. */
class ToolSlot {
  id = "";
  name = "";
  args = "";
  extra: ToolCall["extra_content"] = undefined;
}

/** One choice, assembled from its deltas. */
class ChoiceSlot {
  text = "";
  refusal: string | null = null;
  readonly tools: ToolSlot[] = [];
  finish: FinishReason | null = null;
}

/**
 * Captures one successful upstream answer, as the gateway relays its bytes, into the canonical
 * completion a cache entry holds:
 *
 *   SSE:  bytes ─ SseParser ─► <wire>ToCanonicalStream ─► accumulated per choice ─► ChatCompletion
 *   JSON: bytes (or the whole text) ─ buffered ─ JSON.parse ─► <wire> fromUpstreamResponse
 *
 * Only a complete, valid answer comes out of `end()`; anything else is null with `skipped` saying
 * why. Memory is bounded by maxBytes: past it, everything held is dropped and later input ignored.
 * One instance per answer; no I/O.
 */
export class AnswerCapture {
  /** Why `end()` gives (or will give) null; null while the answer can still be captured. */
  skipped: CaptureSkip | null = null;
  private bytes = 0;
  private ended = false;
  private result: ChatCompletion | null = null;
  // SSE
  private parser: SseParser | null;
  private up: ToCanonicalStream | null;
  private readonly choices: ChoiceSlot[] = [];
  private id = "";
  private model = "";
  private created = 0;
  private fingerprint: string | null | undefined = undefined;
  // JSON
  private parts: Buffer[] = [];
  private text = "";

  constructor(
    private readonly wire: Dialect,
    private readonly sse: boolean,
    /** Most body bytes held; a longer answer is not captured. */
    private readonly maxBytes: number,
  ) {
    this.parser = sse ? new SseParser() : null;
    this.up = sse ? DIALECTS[wire].upstreamStream({ includeUsage: true }) : null;
  }

  /** The next piece of the body, in order; a piece may split an event or a UTF-8 sequence anywhere. */
  push(chunk: Buffer): void {
    if (this.skipped !== null || this.ended || !this.admit(chunk.length)) return;
    if (this.parser !== null) this.events(chunk);
    else this.hold(chunk);
  }

  /** The whole body at once (the gateway read it whole); may also follow earlier `push`es. */
  whole(text: string): void {
    if (this.skipped !== null || this.ended || !this.admit(Buffer.byteLength(text, "utf8"))) return;
    if (this.parser !== null) this.events(text);
    else if (this.parts.length === 0 && this.text === "") this.text = text;
    else this.hold(Buffer.from(text, "utf8"));
  }

  /** The answer is over: its canonical completion when it was complete and valid, else null. */
  end(): ChatCompletion | null {
    if (this.ended) return this.result;
    this.ended = true;
    if (this.skipped === null) this.result = this.sse ? this.endStream() : this.endJson();
    this.release();
    return this.result;
  }

  /** Counts bytes; false (and everything dropped) once the answer is over its bound. */
  private admit(n: number): boolean {
    this.bytes += n;
    if (this.bytes <= this.maxBytes) return true;
    this.skip("oversize");
    return false;
  }

  /** JSON bytes, kept in order (a text given whole goes first when more follows). */
  private hold(chunk: Buffer): void {
    if (this.text !== "") {
      this.parts.push(Buffer.from(this.text, "utf8"));
      this.text = "";
    }
    this.parts.push(chunk);
  }

  private skip(why: CaptureSkip): void {
    this.skipped = why;
    this.release();
  }

  /** Drops whatever the capture holds: nothing more will be read. */
  private release(): void {
    this.parser = null;
    this.up = null;
    this.choices.length = 0;
    this.parts = [];
    this.text = "";
  }

  // ─── SSE ──────────────────────────────────────────────────────────────────────────────────

  private events(input: Buffer | string): void {
    const parser = this.parser;
    if (parser === null) return;
    try {
      this.feed(parser.push(input));
    } catch {
      // A translator tripped over an event of a shape no check caught: the upstream's malformed stream.
      this.skip("malformed");
    }
  }

  private feed(events: ReturnType<SseParser["push"]>): void {
    for (let i = 0; i < events.length; i++) {
      const up = this.up;
      const ev = events[i];
      if (up === null || ev === undefined) return;
      this.take(up.push(ev));
      if (up.error !== null) return this.skip(skipFor(up.error.code));
    }
  }

  private endStream(): ChatCompletion | null {
    const parser = this.parser;
    const up = this.up;
    if (parser === null || up === null) return null;
    try {
      this.feed(parser.end());
      if (this.skipped !== null) return null;
      this.take(up.end());
    } catch {
      this.skipped = "malformed";
      return null;
    }
    if (up.error !== null) this.skipped = skipFor(up.error.code);
    else if (!up.done) this.skipped = "truncated";
    if (this.skipped !== null) return null;
    const c = this.assemble(up.usage);
    if (c !== null) this.skipped = completionProblem(c);
    return this.skipped === null ? c : null;
  }

  /** Folds canonical chunks into the per-choice slots. */
  private take(chunks: ChatCompletionChunk[]): void {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i];
      if (chunk === undefined) continue;
      if (this.id === "" && typeof chunk.id === "string") this.id = chunk.id;
      if (this.model === "" && typeof chunk.model === "string") this.model = chunk.model;
      if (this.created === 0 && typeof chunk.created === "number") this.created = chunk.created;
      if (chunk.system_fingerprint != null) this.fingerprint = chunk.system_fingerprint;
      for (const choice of chunk.choices) {
        const slot = (this.choices[choice.index] ??= new ChoiceSlot());
        const d = choice.delta;
        if (typeof d.content === "string") slot.text += d.content;
        if (typeof d.refusal === "string") slot.refusal = slot.refusal === null ? d.refusal : slot.refusal + d.refusal;
        if (d.tool_calls) {
          for (const tc of d.tool_calls) {
            const t = (slot.tools[tc.index] ??= new ToolSlot());
            if (tc.id && t.id === "") t.id = tc.id;
            const f = tc.function;
            // A name arrives once; some compatible servers repeat it on every delta.
            if (f?.name && t.name === "") t.name = f.name;
            if (f?.arguments) t.args += f.arguments;
            if (tc.extra_content) t.extra = tc.extra_content;
          }
        }
        if (choice.finish_reason) slot.finish = choice.finish_reason;
      }
    }
  }

  private assemble(usage: Usage | null): ChatCompletion | null {
    const choices: Choice[] = [];
    for (let i = 0; i < this.choices.length; i++) {
      const s = this.choices[i];
      if (s === undefined) continue;
      if (s.finish === null) {
        this.skipped = "incomplete";
        return null;
      }
      let calls: ToolCall[] | undefined;
      for (const t of s.tools) {
        if (t === undefined) continue;
        const call: ToolCall = { id: t.id || newId("call_"), type: "function", function: { name: t.name, arguments: t.args } };
        if (t.extra) call.extra_content = t.extra;
        (calls ??= []).push(call);
      }
      // As OpenAI writes it: no text beside tool calls or a refusal is null, not "".
      const content = s.text.length > 0 || (calls === undefined && s.refusal === null) ? s.text : null;
      const choice: Choice = {
        index: i,
        message: { role: "assistant", content, refusal: s.refusal },
        finish_reason: s.finish,
        logprobs: null,
      };
      if (calls) choice.message.tool_calls = calls;
      choices.push(choice);
    }
    if (choices.length === 0) {
      this.skipped = "incomplete";
      return null;
    }
    const c: ChatCompletion = { id: this.id, object: "chat.completion", created: this.created, model: this.model, choices };
    if (usage !== null) c.usage = usage;
    if (this.fingerprint !== undefined) c.system_fingerprint = this.fingerprint;
    return c;
  }

  // ─── JSON ─────────────────────────────────────────────────────────────────────────────────

  private endJson(): ChatCompletion | null {
    const text = this.parts.length === 0 ? this.text : Buffer.concat(this.parts).toString("utf8");
    let c: ChatCompletion;
    try {
      const json: unknown = JSON.parse(text);
      // A 2xx carrying an error (a proxy's, or a provider's odd answer) is not an answer.
      if (isRecord(json) && json.error != null) {
        this.skipped = "upstream_error";
        return null;
      }
      c = DIALECTS[this.wire].fromUpstreamResponse(json);
    } catch {
      this.skipped = "malformed";
      return null;
    }
    this.skipped = completionProblem(c);
    return this.skipped === null ? c : null;
  }
}

function skipFor(code: string | undefined): CaptureSkip {
  if (code === "stream_truncated") return "truncated";
  if (code === "stream_malformed") return "malformed";
  return "upstream_error";
}

function optionalString(v: unknown): boolean {
  return v === undefined || v === null || typeof v === "string";
}

/**
 * Why a completion cannot be stored and replayed, or null when it can. The JSON readers check only
 * the envelope (an OpenAI body is canonical as it stands); a replay reads every field as typed, so
 * a choice of the wrong shape is refused here, once, not at each hit.
 */
function completionProblem(c: ChatCompletion): CaptureSkip | null {
  if (typeof c.id !== "string" || typeof c.model !== "string" || !Array.isArray(c.choices) || c.choices.length === 0) return "malformed";
  let said = false;
  for (const raw of c.choices as unknown[]) {
    if (!isRecord(raw) || !isStreamIndex(raw.index) || !isRecord(raw.message)) return "malformed";
    const m = raw.message;
    if (!optionalString(m.content) || !optionalString(m.refusal)) return "malformed";
    if (m.tool_calls != null) {
      if (!Array.isArray(m.tool_calls)) return "malformed";
      for (const tc of m.tool_calls as unknown[]) {
        if (!isRecord(tc) || typeof tc.id !== "string" || !isRecord(tc.function)) return "malformed";
        if (typeof tc.function.name !== "string" || typeof tc.function.arguments !== "string") return "malformed";
      }
      if (m.tool_calls.length > 0) said = true;
    }
    if (typeof raw.finish_reason !== "string") return "incomplete";
    if (m.content || m.refusal) said = true;
  }
  return said ? null : "empty";
}
