import type { CanonicalError, Dialect, Usage } from "../providers/canonical.js";
import { DIALECTS } from "../providers/translators.js";
import { isRecord, malformedStreamError } from "../providers/errors.js";
import { encodeSse, SseParser } from "../providers/sse.js";
import type { FromCanonicalStream, ToCanonicalStream } from "../providers/stream.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import { UpstreamFormatError } from "../errors.js";

/**
 * The answer half of crossing dialects, shared by the server's relay and the library's buffered
 * call: an upstream answer (stream, JSON or error) in the target's dialect → the client's.
 */

/**
 * A streamed answer crossing dialects, event by event, nothing buffered but a partial event:
 *
 *   upstream bytes ─ SseParser ─► <Target>ToCanonicalStream ─► CanonicalTo<Client>Stream ─ encodeSse ─► client text
 *
 * An error inside the upstream stream (an `error` event, a malformed event, an early end) becomes
 * the client dialect's error event; `failure` then says why and further input is ignored.
 */
export class StreamTranslation {
  private readonly parser = new SseParser();
  private readonly up: ToCanonicalStream;
  private readonly down: FromCanonicalStream;
  /** Why the stream failed (for the attempt's outcome), or null. */
  failure: string | null = null;

  constructor(
    upstream: Dialect,
    private readonly client: Dialect,
    private readonly target: Target,
    /** Receives the answer's usage (ctx.usage) when the stream ends, before the attempt does. */
    private readonly ctx: RequestContext,
    /** The model the client sees in events that carry one: the model the target was asked for. */
    model: string,
    includeUsage: boolean,
  ) {
    this.up = DIALECTS[upstream].upstreamStream({ includeUsage: true });
    this.down = DIALECTS[client].clientStream({ model, includeUsage });
  }

  /** Upstream bytes → the client text they complete ("" when no event completed). */
  push(chunk: Buffer): string {
    if (this.failure !== null) return "";
    try {
      return this.translate(chunk);
    } catch (err) {
      return this.tripped(err);
    }
  }

  private translate(chunk: Buffer): string {
    const events = this.parser.push(chunk);
    let out = "";
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (ev === undefined) continue;
      out += this.encode(this.up.push(ev));
      if (this.up.error !== null) return out + this.fail(this.up.error);
    }
    return out;
  }

  /** The upstream ended: the closing events, or the error event when it ended too soon. */
  end(): string {
    if (this.failure !== null) return "";
    try {
      return this.finish();
    } catch (err) {
      return this.tripped(err);
    }
  }

  /**
   * A translator threw on an event it did not expect (a field of a type no check caught): the
   * upstream's malformed stream, answered with the client's error event, never an exception
   * thrown into the upstream call's callbacks.
   */
  private tripped(err: unknown): string {
    return this.fail(malformedStreamError(`an event the gateway cannot translate (${(err as Error).message})`));
  }

  private finish(): string {
    let out = "";
    const events = this.parser.end();
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (ev === undefined) continue;
      out += this.encode(this.up.push(ev));
      if (this.up.error !== null) return out + this.fail(this.up.error);
    }
    out += this.encode(this.up.end());
    if (this.up.error !== null) return out + this.fail(this.up.error);
    this.ctx.usage = this.up.usage;
    for (const ev of this.down.end()) out += encodeSse(ev);
    return out;
  }

  /** The upstream connection broke: the client's error event. */
  broken(code: string): string {
    if (this.failure !== null) return "";
    return this.fail({
      status: 502,
      type: "api_error",
      message: `broke off the stream (${code}); the answer is incomplete`,
      code: "upstream_stream_broken",
    });
  }

  private encode(chunks: ReturnType<ToCanonicalStream["push"]>): string {
    let out = "";
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i];
      if (chunk === undefined) continue;
      for (const ev of this.down.push(chunk)) out += encodeSse(ev);
    }
    return out;
  }

  private fail(e: CanonicalError): string {
    const message = `${this.target.label}: ${this.target.maskKeyIn(e.message)}`;
    this.failure = `stream error: ${message}`;
    this.ctx.usage = this.up.usage;
    let out = "";
    for (const ev of this.down.error({ ...e, message })) out += encodeSse(ev);
    // An OpenAI client's stream always ends with [DONE], a failed one too.
    if (this.client === "openai") out += "data: [DONE]\n\n";
    return out;
  }
}

/** A whole JSON answer → the client's dialect. Throws UpstreamFormatError when it is not one. */
export function translateJsonAnswer(upstream: Dialect, client: Dialect, text: string): { body: string; usage: Usage | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UpstreamFormatError(`not JSON (${text.length} bytes)`);
  }
  try {
    const c = DIALECTS[upstream].fromUpstreamResponse(json);
    return { body: JSON.stringify(DIALECTS[client].toClientResponse(c)), usage: c.usage ?? null };
  } catch (err) {
    // A translator tripped over a field of a type no check caught: the upstream's malformed answer, not a gateway bug.
    if (err instanceof UpstreamFormatError) throw err;
    throw new UpstreamFormatError(`an answer the gateway cannot translate (${(err as Error).message})`);
  }
}

/**
 * A provider's error answer (a 4xx the gateway passes on) in the client's dialect, its message
 * naming the target and provider. Same dialect: only the message changes, every other field of
 * the provider's body is kept. Another dialect: through the canonical error.
 */
export function translateErrorAnswer(
  upstream: Dialect,
  client: Dialect,
  status: number,
  text: string,
  target: Target,
): { status: number; body: string } {
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (an HTML page from a proxy): the translators use the raw text
  }
  const label = target.label;
  if (upstream === client && isRecord(json) && isRecord(json.error) && typeof json.error.message === "string") {
    json.error.message = `${label}: ${target.maskKeyIn(json.error.message)}`;
    return { status, body: JSON.stringify(json) };
  }
  const e = DIALECTS[upstream].fromUpstreamError(status, json);
  e.message = `${label}: ${target.maskKeyIn(e.message)}`;
  const out = DIALECTS[client].toClientError(e);
  return { status: out.status, body: JSON.stringify(out.body) };
}
