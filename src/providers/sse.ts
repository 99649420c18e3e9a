import { StringDecoder } from "node:string_decoder";

/**
 * Server-sent events, both ways (WHATWG HTML §9.2 "event stream" format).
 *
 * The parser sits on the streaming hot path: each byte is decoded once (StringDecoder keeps a
 * UTF-8 sequence split across chunks), each line end is found by `indexOf` from where the last
 * search stopped (never re-scanning the buffer), and only an incomplete trailing line is carried
 * to the next chunk.
 */

export interface SseEvent {
  /** The `event:` field; absent means the default type "message". */
  event?: string;
  data: string;
  id?: string;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
/** Shared empty result, frozen so a caller cannot corrupt it. */
const NO_EVENTS = Object.freeze([]) as unknown as SseEvent[];

export class SseParser {
  private readonly decoder = new StringDecoder("utf8");
  /** An incomplete line carried over from the previous chunk. */
  private pending = "";
  /** The previous chunk ended in CR: a LF starting the next chunk belongs to that line end. */
  private skipLf = false;
  private first = true;
  private data = "";
  private hasData = false;
  private event: string | undefined = undefined;
  private id: string | undefined = undefined;
  private out: SseEvent[] = NO_EVENTS;

  /** Feeds bytes or text of any split; returns the events completed by this chunk. */
  push(chunk: Buffer | Uint8Array | string): SseEvent[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    this.out = NO_EVENTS;
    if (text.length > 0) this.scan(text);
    return this.out;
  }

  /**
   * The stream closed. Deliberately lenient: a last event without its blank line is still
   * delivered (the spec discards it). A truncated stream is the translator's to detect (no end
   * marker), with the event in hand for the error message.
   */
  end(): SseEvent[] {
    this.out = NO_EVENTS;
    const rest = this.decoder.end();
    if (rest.length > 0) this.scan(rest);
    if (this.pending.length > 0) {
      const line = this.pending;
      this.pending = "";
      this.line(line, 0, line.length);
    }
    this.dispatch();
    return this.out;
  }

  private scan(text: string): void {
    const len = text.length;
    let pos = 0;
    if (this.first) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) pos = 1; // a UTF-8 BOM may open the stream
    }
    if (this.skipLf) {
      this.skipLf = false;
      if (text.charCodeAt(pos) === LF) pos++;
    }
    let nextLf = text.indexOf("\n", pos);
    let nextCr = text.indexOf("\r", pos);
    while (pos < len) {
      if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf("\n", pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf("\r", pos);
      let eol: number;
      if (nextCr === -1) {
        if (nextLf === -1) break;
        eol = nextLf;
      } else eol = nextLf === -1 || nextCr < nextLf ? nextCr : nextLf;

      if (this.pending.length > 0) {
        const line = this.pending + text.slice(pos, eol);
        this.pending = "";
        this.line(line, 0, line.length);
      } else this.line(text, pos, eol);

      pos = eol + 1;
      if (text.charCodeAt(eol) === CR) {
        if (pos === len) this.skipLf = true;
        else if (text.charCodeAt(pos) === LF) pos++;
      }
    }
    if (pos < len) this.pending = this.pending.length > 0 ? this.pending + text.slice(pos) : text.slice(pos);
  }

  /** One line, `s[start, end)`, without its terminator. */
  private line(s: string, start: number, end: number): void {
    if (start === end) {
      this.dispatch();
      return;
    }
    if (s.charCodeAt(start) === COLON) return; // comment (keep-alives)
    let nameEnd = s.indexOf(":", start);
    if (nameEnd === -1 || nameEnd > end) nameEnd = end;
    let valueStart = nameEnd + 1;
    if (valueStart < end && s.charCodeAt(valueStart) === SPACE) valueStart++;
    const value = valueStart >= end ? "" : s.slice(valueStart, end);
    const nameLength = nameEnd - start;
    if (nameLength === 4 && s.startsWith("data", start)) {
      if (this.hasData) this.data += "\n" + value;
      else {
        this.data = value;
        this.hasData = true;
      }
    } else if (nameLength === 5 && s.startsWith("event", start)) this.event = value;
    else if (nameLength === 2 && s.startsWith("id", start)) {
      if (value.indexOf("\0") === -1) this.id = value;
    }
    // `retry:` and unknown fields are ignored, as the spec says.
  }

  private dispatch(): void {
    if (this.hasData) {
      const ev: SseEvent = { event: this.event, data: this.data, id: this.id };
      if (this.out === NO_EVENTS) this.out = [ev];
      else this.out.push(ev);
    }
    this.data = "";
    this.hasData = false;
    this.event = undefined;
    this.id = undefined;
  }
}

/** Thrown by the writer for an `event` or `id` that would break the framing. */
export class SseFieldError extends Error {
  readonly code = "sse_invalid_field";
  constructor(field: "event" | "id") {
    super(`SSE ${field} must not contain CR or LF`);
    this.name = "SseFieldError";
  }
}

function hasLineBreak(s: string): boolean {
  return s.indexOf("\n") !== -1 || s.indexOf("\r") !== -1;
}

/**
 * One event as wire text. `event` and `id` with CR/LF are refused (they would let a value inject
 * fields or events); multi-line `data` is split into one `data:` line per line.
 */
export function encodeSse(ev: SseEvent): string {
  let out = "";
  if (ev.event !== undefined) {
    if (hasLineBreak(ev.event)) throw new SseFieldError("event");
    out = `event: ${ev.event}\n`;
  }
  if (ev.id !== undefined) {
    if (hasLineBreak(ev.id) || ev.id.indexOf("\0") !== -1) throw new SseFieldError("id");
    out += `id: ${ev.id}\n`;
  }
  const data = ev.data;
  if (!hasLineBreak(data)) return `${out}data: ${data}\n\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** Several events as one write. */
export function encodeSseEvents(events: readonly SseEvent[]): string {
  const first = events[0];
  if (events.length === 1 && first !== undefined) return encodeSse(first);
  let out = "";
  for (const ev of events) out += encodeSse(ev);
  return out;
}

/** A comment line: keeps idle connections (and proxies) from timing out; clients ignore it. */
export function sseComment(text = ""): string {
  if (hasLineBreak(text)) throw new SseFieldError("event");
  return `: ${text}\n\n`;
}
