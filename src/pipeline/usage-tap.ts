import type { RequestContext } from "../core/request-context.js";
import type { Committed } from "../engine/committed.js";
import type { Dialect, Usage } from "../providers/canonical.js";
import { SseParser } from "../providers/sse.js";
import { UsageReader } from "../providers/usage-reader.js";
import { hidesStreamUsage } from "../exchange/upstream-request.js";
import type { BodyTransform } from "./body-transform.js";

/**
 * Reads the token usage of an answer the gateway passes through untranslated, as it passes, for
 * cost accounting (a translated answer's usage comes from its translation). Nothing is held back
 * from the client and a stream is never buffered:
 *
 *   SSE   only the events that name a usage ("usage…") are parsed, as they go by
 *   JSON  the body's chunks are kept (up to 1 MiB) and the usage object is cut out of its tail
 *
 * Only a 2xx answer of an LLM route is tapped; anything else goes through as it is.
 */
export function usageTapFor(c: Committed, relay: BodyTransform, sse: boolean): BodyTransform {
  const ctx = c.ctx;
  if (ctx.surface === "rest" || c.status < 200 || c.status >= 300 || ctx.method === "HEAD") return relay;
  const dialect = ctx.surface;
  return sse
    ? new SseUsageTap(relay, ctx, dialect, dialect === "openai" && hidesStreamUsage(ctx, c.target))
    : new JsonUsageTap(relay, ctx, dialect);
}

/**
 * What an event with a usage holds, as each dialect writes it (compact or spaced JSON); a chunk
 * without one is passed on unread (OpenAI's `"usage":null` on every chunk included).
 */
const MARKERS = ['"usage":{', '"usage": {', '"usageMetadata"'].map((m) => Buffer.from(m));
const hasMarker = (out: string | Buffer): boolean => {
  if (out.length === 0) return false;
  for (const m of MARKERS) if (out.indexOf(m as never) !== -1) return true;
  return false;
};
const MAX_JSON_BYTES = 1024 * 1024;

class SseUsageTap implements BodyTransform {
  private readonly reader: UsageReader;

  constructor(
    private readonly relay: BodyTransform,
    private readonly ctx: RequestContext,
    dialect: Dialect,
    /** Leave OpenAI's usage-only chunk out: the gateway asked for it, the client did not. */
    private readonly hideUsageChunk: boolean,
  ) {
    this.reader = new UsageReader(dialect);
  }

  get failure(): string | null {
    return this.relay.failure;
  }

  push(chunk: Buffer): string | Buffer {
    return this.scan(this.relay.push(chunk));
  }

  end(): string | Buffer {
    return this.scan(this.relay.end());
  }

  broken(code: string): string | null {
    return this.relay.broken(code);
  }

  /** Whole events (the relay cuts on event boundaries): reads the usage of those that carry one. */
  private scan(out: string | Buffer): string | Buffer {
    if (!hasMarker(out)) return out;
    const text = typeof out === "string" ? out : out.toString("utf8");
    const events = text.split(/(?<=\r?\n\r?\n)/);
    let kept = "";
    let dropped = false;
    for (const event of events) {
      if (!event.includes('"usage')) {
        kept += event;
        continue;
      }
      let obj: unknown;
      try {
        obj = JSON.parse(dataOf(event));
      } catch {
        kept += event; // not JSON: the client gets it as it is
        continue;
      }
      this.reader.read(obj);
      if (this.hideUsageChunk && isUsageOnlyChunk(obj)) dropped = true;
      else kept += event;
    }
    this.ctx.usage = this.reader.usage;
    return dropped ? kept : out;
  }
}

/** The data of one whole SSE event, read by the project's SSE parser (multi-line data, CR line ends, comments). */
function dataOf(event: string): string {
  const parser = new SseParser();
  const [ev] = parser.push(event);
  return (ev ?? parser.end()[0])?.data ?? "";
}

/** OpenAI's last chunk when usage is asked for: no choices, only the usage. */
function isUsageOnlyChunk(obj: unknown): boolean {
  if (typeof obj !== "object" || obj === null) return false;
  const o = obj as { choices?: unknown; usage?: unknown };
  return Array.isArray(o.choices) && o.choices.length === 0 && typeof o.usage === "object" && o.usage !== null;
}

class JsonUsageTap implements BodyTransform {
  private chunks: Buffer[] | null = [];
  private bytes = 0;

  constructor(
    private readonly relay: BodyTransform,
    private readonly ctx: RequestContext,
    private readonly dialect: Dialect,
  ) {}

  get failure(): string | null {
    return this.relay.failure;
  }

  push(chunk: Buffer): string | Buffer {
    const out = this.relay.push(chunk);
    this.keep(out);
    return out;
  }

  end(): string | Buffer {
    const out = this.relay.end();
    this.keep(out);
    if (this.chunks !== null && this.bytes > 0) {
      const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      this.chunks = null;
      this.ctx.usage = usageOfJson(body, this.dialect);
    }
    return out;
  }

  broken(code: string): string | null {
    return this.relay.broken(code);
  }

  private keep(out: string | Buffer): void {
    if (this.chunks === null || out.length === 0) return;
    const b = typeof out === "string" ? Buffer.from(out) : out;
    this.bytes += b.length;
    if (this.bytes > MAX_JSON_BYTES) this.chunks = null;
    else this.chunks.push(b);
  }
}

/**
 * The usage of a whole JSON answer: every dialect puts it last, so the object after the last
 * `"usage"` (`"usageMetadata"`) key is cut out and parsed alone; when that fails the whole body is.
 */
export function usageOfJson(body: Buffer, dialect: Dialect): Usage | null {
  const key = dialect === "gemini" ? '"usageMetadata"' : '"usage"';
  const reader = new UsageReader(dialect);
  const at = body.lastIndexOf(key);
  if (at === -1) return null;
  const object = objectAfter(body, at + key.length);
  if (object !== null) {
    try {
      reader.read({ [key.slice(1, -1)]: JSON.parse(object) as unknown });
      if (reader.usage !== null) return reader.usage;
    } catch {
      // fall through to the whole body
    }
  }
  try {
    reader.read(JSON.parse(body.toString("utf8")));
  } catch {
    // not JSON: no usage
  }
  return reader.usage;
}

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** The JSON object that follows `: ` at `from`, by brace depth (skipping strings), or null. */
function objectAfter(body: Buffer, from: number): string | null {
  let i = from;
  while (i < body.length && SPACE.has(body[i] as number)) i++;
  if (body[i] !== 0x3a) return null;
  i++;
  while (i < body.length && SPACE.has(body[i] as number)) i++;
  if (body[i] !== 0x7b) return null;
  const start = i;
  let depth = 0;
  for (; i < body.length; i++) {
    const ch = body[i];
    if (ch === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < body.length && body[i] !== 0x22; i++) if (body[i] === 0x5c) i++;
    } else if (ch === 0x7b) depth++;
    else if (ch === 0x7d && --depth === 0) return body.toString("latin1", start, i + 1);
  }
  return null;
}
