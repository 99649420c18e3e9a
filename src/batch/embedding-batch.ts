import type { OutgoingHttpHeaders } from "node:http";
import { GatewayError } from "../errors.js";
import { armTimeout, cancelTimeout, type TimeoutToken } from "../core/coarse-timers.js";
import { ENDPOINTS } from "../core/endpoint.js";
import { ReadyAnswer } from "../core/ready-answer.js";
import { RequestContext } from "../core/request-context.js";
import type { Committed } from "../engine/committed.js";
import type { Engine } from "../engine/engine.js";
import type { Route } from "../engine/route.js";
import { clientResponseHeaders } from "../exchange/headers.js";
import type { Admitted } from "../pipeline/admission.js";
import { readWhole } from "../pipeline/answer.js";
import { requestIdOf } from "../pipeline/request-id.js";
import { splitEmbeddings, type Share } from "./batch-split.js";

/** One route's batching counts since start (status, metrics). */
export class BatchCounts {
  /** Embedding requests that could be batched (string or string-array input, route with batching). */
  eligible = 0;
  /** Requests answered from a batch. */
  batched = 0;
  /** Upstream batch calls (those that failed included). */
  batches = 0;
  /** Requests sent alone because their batch failed. */
  fallbacks = 0;
}

/** One request waiting in a batch: its inputs, its weight (characters) and how its admission is settled. */
export class Member {
  readonly answer: Promise<Admitted>;
  resolve!: (a: Admitted) => void;
  reject!: (err: unknown) => void;

  constructor(
    readonly ctx: RequestContext,
    readonly inputs: readonly string[],
    /** Its share of the batch's input, for the usage it is charged: its inputs' characters. */
    readonly weight: number,
  ) {
    this.answer = new Promise<Admitted>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

const PRIORITY_RANK = { critical: 3, high: 2, normal: 1, low: 0 } as const;

/**
 * One group of embedding requests (same route, model and every other body field) collected for
 * a window and sent as one upstream call, through the route's engine like any request (the same
 * attempt loop, failover, breakers, quotas and retries), then split back:
 *
 *   open ── add ─ … ─ window ends / max_size reached ─► send
 *   send:  members whose client left or whose deadline passed go their own way (dropped)
 *          one left      → it goes alone (admission resolves with nothing)
 *          several       → one call, input = their inputs in order
 *            2xx, splits → each member's share as a ReadyAnswer (answeredBy "batch")
 *            anything else (an error, a non-2xx, a body that does not split)
 *                        → every member goes alone (fallback)
 *
 * The batch call publishes no request record of its own: each member's answer does, with its
 * target and usage, so its cost counts against its own client key and route.
 */
export class EmbeddingBatch {
  readonly members: Member[] = [];
  /** Inputs collected so far. */
  size = 0;
  /** The window's timer, until the batch is sent. */
  timer: NodeJS.Timeout | undefined = undefined;
  private sent = false;

  constructor(
    readonly key: string,
    readonly route: Route,
    private readonly counts: BatchCounts,
    private readonly engine: Engine,
  ) {}

  /** Adds a request; its admission settles once the batch is answered (or it must go alone). */
  add(ctx: RequestContext, inputs: readonly string[], weight: number): Promise<Admitted> {
    const m = new Member(ctx, inputs, weight);
    this.members.push(m);
    this.size += inputs.length;
    return m.answer;
  }

  /** Sends the batch (once closed to new members): settles every member's admission, never throws. */
  send(): void {
    if (this.sent) return;
    this.sent = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const live: Member[] = [];
    // Left out: a member whose client left (answered as such), one whose deadline passed (the attempt loop answers its 504).
    for (const m of this.members) {
      if (m.ctx.clientGone) m.reject(new GatewayError("client_closed", "client closed the request while it waited for its batch"));
      else if (m.ctx.timedOut) m.resolve(undefined);
      else live.push(m);
    }
    const only = live[0];
    if (live.length === 1 && only !== undefined) return only.resolve(undefined);
    if (live.length === 0) return;
    this.counts.batches++;
    this.call(live).then(
      (shares) => this.answered(live, shares),
      () => this.fellBack(live),
    );
  }

  /** The one upstream call, read whole: each member's share, or null when it cannot be split (the call was ended either way). */
  private async call(live: Member[]): Promise<{ c: Committed; shares: Share[] } | null> {
    const ctx = this.batchContext(live);
    const deadline = earliestDeadline(live, this.route.timeouts.total_ms);
    let timer: TimeoutToken | undefined;
    if (deadline > 0) {
      ctx.deadlineAt = deadline;
      timer = armTimeout(Math.max(1, deadline - Date.now()), onDeadline, ctx);
    }
    try {
      const c = await this.engine.serve(this.route, ctx);
      let text: string;
      try {
        text = await readWhole(c);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        c.finish("broken_stream", `stream broken after the first byte: ${code}`);
        return null;
      }
      if (c.status < 200 || c.status >= 300) {
        c.finish();
        return null;
      }
      const shares = splitEmbeddings(
        text,
        live.map((m) => m.inputs.length),
        live.map((m) => m.weight),
      );
      if (typeof shares === "string") {
        c.finish("server_error", `batched embeddings answer: ${shares}`);
        return null;
      }
      c.finish();
      return { c, shares };
    } finally {
      cancelTimeout(timer);
    }
  }

  private answered(live: Member[], r: { c: Committed; shares: Share[] } | null): void {
    if (r === null) return this.fellBack(live);
    const { c, shares } = r;
    const base = clientResponseHeaders(c.headers, c.target, c.ctx.requestId, c.attempts, false);
    base["x-switchyard-batch"] = String(live.length);
    for (let i = 0; i < live.length; i++) {
      const m = live[i] as Member;
      const share = shares[i] as Share;
      const headers: OutgoingHttpHeaders = { ...base, "content-length": String(Buffer.byteLength(share.body)) };
      this.counts.batched++;
      m.resolve(new ReadyAnswer(c.status, headers, share.body, "batch", c.target, share.usage));
    }
  }

  /** The batch failed: every member goes alone, through the attempt loop. */
  private fellBack(live: Member[]): void {
    for (const m of live) {
      this.counts.fallbacks++;
      m.resolve(undefined);
    }
  }

  /**
   * The batch call's own context, as a front builds one: the members' common body with their
   * inputs in order, the highest priority among them, and only the headers that are the same for
   * every member (content type and the group's `openai-*` headers; no member's other headers go
   * upstream with the others' inputs).
   */
  private batchContext(live: Member[]): RequestContext {
    const first = (live[0] as Member).ctx;
    const headers: RequestContext["headers"] = { "content-type": "application/json" };
    for (const name in first.headers) if (name.startsWith("openai-")) headers[name] = first.headers[name];
    const ctx = new RequestContext(requestIdOf(undefined), ENDPOINTS.embeddings, "POST", headers);
    const input: string[] = [];
    let priority = first.priority;
    for (const m of live) {
      for (const s of m.inputs) input.push(s);
      if (PRIORITY_RANK[m.ctx.priority] > PRIORITY_RANK[priority]) priority = m.ctx.priority;
    }
    const json = { ...first.json, input };
    ctx.json = json;
    ctx.body = Buffer.from(JSON.stringify(json));
    ctx.model = first.model;
    ctx.path = first.path;
    ctx.priority = priority;
    return ctx;
  }
}

/** The batch must end when its most pressed member's deadline passes (epoch ms; 0: no deadline). */
function earliestDeadline(live: readonly Member[], totalMs: number): number {
  let at = 0;
  for (const m of live) {
    const d = m.ctx.deadlineAt;
    if (d > 0 && (at === 0 || d < at)) at = d;
  }
  return at === 0 && totalMs > 0 ? Date.now() + totalMs : at;
}

/** The batch's deadline passed: its attempts are cut short, the members fall back (and time out). */
function onDeadline(ctx: RequestContext): void {
  ctx.timedOut = true;
  ctx.abort();
}
