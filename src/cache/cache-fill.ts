import type { IncomingHttpHeaders } from "node:http";
import type { AnswerWatch } from "../core/answer-watch.js";
import { isChatEndpoint } from "../core/endpoint.js";
import type { ReadyAnswer } from "../core/ready-answer.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import type { Dialect } from "../providers/canonical.js";
import { AnswerCapture } from "./answer-capture.js";
import { type CacheEntry, entryJson } from "./cache-entry.js";

/** An entry and its JSON (what a shared store writes). */
export interface MadeEntry {
  entry: CacheEntry;
  json: string;
}

/** The response headers a raw entry keeps (what describes its bytes). */
const KEPT_HEADERS = ["content-type", "content-encoding", "content-language", "etag", "last-modified"];

/** What a fill tells the cache when its request ended: the entry made (null: none), for the store and the coalesced twins. */
export interface FillOwner {
  filled(fill: CacheFill, made: MadeEntry | null): void;
  /** Every target failed: the stale entry as an answer, or null. */
  staleAnswer(fill: CacheFill): ReadyAnswer | null;
}

/**
 * Watches one cache miss's upstream answer (ctx.watch) and makes its entry when the client got
 * all of it: a 200 whose body was complete (a stream with its end marker, never a broken one),
 * not larger than the cap, not marked no-store or private by the upstream. Chat answers are
 * captured in canonical form from the target's own dialect; REST and embeddings answers as their
 * bytes. Nothing is held back from the client: the capture copies as the relay goes.
 */
export class CacheFill implements AnswerWatch {
  private capture: AnswerCapture | null = null;
  private raw: Buffer[] | null = null;
  private rawBytes = 0;
  private status = 0;
  private target: Target | null = null;
  private headers: IncomingHttpHeaders | null = null;
  private over = false;

  constructor(
    private readonly owner: FillOwner,
    readonly ctx: RequestContext,
    readonly route: string,
    readonly key: string,
    /** An entry past its TTL but within stale_ttl, served if every target fails. */
    readonly stale: CacheEntry | null,
    private readonly ttlMs: number,
    private readonly staleTtlMs: number,
    private readonly maxBytes: number,
  ) {}

  committed(target: Target, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.target = target;
    this.headers = headers;
    if (status !== 200 || refusesStore(headers["cache-control"])) return;
    const ctx = this.ctx;
    const sse = String(headers["content-type"] ?? "").startsWith("text/event-stream");
    const passed = !sse && target.wire === ctx.surface;
    if (isChatEndpoint(ctx.endpoint.kind)) {
      this.capture = new AnswerCapture(target.wire as Dialect, sse, this.maxBytes);
      // The bytes too, when they are what the client got (same dialect, JSON): the next one gets them as they were.
      if (passed) this.raw = [];
    }
    // Another dialect's embeddings, or a REST answer rewritten by a mapper, are not the bytes this client got: not kept.
    else if (passed && (ctx.surface !== "rest" || target.config.response_mapper === undefined)) this.raw = [];
  }

  chunk(chunk: Buffer): void {
    if (this.capture !== null) this.capture.push(chunk);
    if (this.raw !== null && !this.over) {
      this.rawBytes += chunk.length;
      if (this.rawBytes > this.maxBytes) {
        this.over = true;
        this.raw = null;
      } else this.raw.push(Buffer.from(chunk));
    }
  }

  whole(text: string): void {
    if (this.capture !== null) this.capture.whole(text);
    if (this.raw !== null) {
      const b = Buffer.from(text);
      if (b.length > this.maxBytes) this.raw = null;
      else this.raw = [b];
    }
  }

  rescue(): ReadyAnswer | null {
    return this.stale === null ? null : this.owner.staleAnswer(this);
  }

  ended(complete: boolean): void {
    this.owner.filled(this, complete && this.status === 200 ? this.entry() : null);
  }

  private entry(): MadeEntry | null {
    const target = this.target;
    if (target === null) return null;
    const now = Date.now();
    const times = { target: target.id, createdAt: now, freshUntil: now + this.ttlMs, staleUntil: now + this.ttlMs + this.staleTtlMs };
    if (this.capture !== null) {
      const completion = this.capture.end();
      if (completion === null) return null;
      const origin = this.raw === null ? undefined : { dialect: this.ctx.surface as Dialect, body: Buffer.concat(this.raw).toString() };
      return entryJson({ kind: "chat", completion, ...(origin === undefined ? {} : { origin }), ...times });
    }
    if (this.raw === null) return null;
    const headers: Record<string, string> = {};
    for (const h of KEPT_HEADERS) {
      const v = this.headers?.[h];
      if (typeof v === "string") headers[h] = v;
    }
    return entryJson({ kind: "raw", status: 200, headers, body: Buffer.concat(this.raw).toString("base64"), ...times });
  }
}

/** An upstream's Cache-Control that forbids a shared cache to keep its answer. */
function refusesStore(v: string | string[] | undefined): boolean {
  if (v === undefined) return false;
  const s = (Array.isArray(v) ? v.join(",") : v).toLowerCase();
  return s.includes("no-store") || s.includes("private");
}
