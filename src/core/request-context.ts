import type { IncomingHttpHeaders } from "node:http";
import type { Span } from "@opentelemetry/api";
import type { Surface } from "../config/schema.js";
import type { Endpoint } from "./endpoint.js";
import type { ChatRequest, Usage } from "../providers/canonical.js";
import type { AttemptRecord } from "./attempt-record.js";
import type { AnswerWatch } from "./answer-watch.js";
import type { AnsweredBy, CacheResult } from "./ready-answer.js";

/**
 * What the gateway knows about one client request while it is served. One object per request,
 * fixed shape; strategies read it through `pick(eligible, ctx)`.
 */
export class RequestContext {
  /** Parsed JSON body (LLM surfaces), or undefined. */
  json: Record<string, unknown> | undefined = undefined;
  /** Raw request body as received (possibly empty). */
  body: Buffer = EMPTY;
  /** The model the client asked for (LLM surfaces), "" otherwise. */
  model = "";
  /** Whether the client asked for a streamed response. */
  stream = false;
  /** Path after the route's mount point, without query (REST surfaces), e.g. "/v1/quote". */
  subPath = "";
  /** Raw query string without "?", passed upstream as is. */
  query = "";
  /** The path the client asked for (the server's URL path, or the library's equivalent), for logs. */
  path = "";
  /** Abort handles of the attempts running now (two while a hedge races); aborting cancels the upstream call. */
  readonly controllers: { abort(reason?: Error): void }[] = [];
  /** The name of the client key the request came with ("" when client keys are off): never the key itself. */
  clientKey = "";
  /** Queue priority (critical, high, normal, low). */
  priority: "critical" | "high" | "normal" | "low" = "normal";
  /** Time spent waiting in the route's queue, ms. */
  queueMs = 0;
  /** Time spent in backoff before retries, ms. */
  backoffMs = 0;
  /** Sum of the attempts' durations, ms (hedges overlap: may exceed the request's). */
  upstreamMs = 0;
  /** The ended attempts, in order. */
  readonly tries: AttemptRecord[] = [];
  /** Hedged attempts started for this request. */
  hedges = 0;
  /** The client closed its connection before the answer ended. */
  clientGone = false;
  /** The request's total deadline passed. */
  timedOut = false;
  /** Epoch ms of the request's total deadline; 0 = none. */
  deadlineAt = 0;
  /** Attempt number, 0-based, of the attempt being picked. */
  attempt = 0;
  /** Ids of targets already tried by this request (strategies may avoid them). */
  readonly tried = new Set<string>();
  /** Epoch ms when the request arrived. */
  readonly startedAt = Date.now();
  /**
   * The client body in canonical form, parsed once when some target of the route speaks another
   * dialect; every translated attempt starts from it. Undefined on pure pass-through routes.
   */
  canonical: ChatRequest | undefined = undefined;
  /** What each target's translation dropped or changed, by target id (null: nothing yet). */
  warnings: Map<string, string[]> | null = null;
  /** Token usage of the answer, canonical, once known (read from the answer as it passes; for cost accounting). */
  usage: Usage | null = null;
  /**
   * Ids of targets that cannot take this request at all (buildUpstreamRequest threw
   * UnsupportedFieldError: a field under on_unsupported: reject, an endpoint their dialect
   * lacks). Unlike `tried`, never picked again for this request; null until one exists.
   */
  unservable: Set<string> | null = null;
  /** The request's trace span (core/tracing.ts); undefined while tracing is off. */
  span: Span | undefined = undefined;
  /**
   * Headers an admission step adds to the client's answer (RateLimit, RateLimit-Policy of the
   * inbound limits), lower-case names; null: none.
   */
  responseHeaders: Record<string, string> | null = null;
  /** Who sees the upstream answer as it passes (core/answer-watch.ts); null: nobody. */
  watch: AnswerWatch | null = null;
  /** Who answered, when not the engine ("" it did): a cache hit, a batch's share… (core/ready-answer.ts). */
  answeredBy: AnsweredBy = "";
  /** What the response cache did with it ("" when its route has no cache). */
  cache: CacheResult = "";

  readonly surface: Surface;

  constructor(
    readonly requestId: string,
    readonly endpoint: Endpoint,
    readonly method: string,
    readonly headers: IncomingHttpHeaders,
  ) {
    this.surface = endpoint.surface;
  }

  /** Cancels every running upstream attempt. */
  abort(): void {
    for (let i = this.controllers.length - 1; i >= 0; i--) {
      const c = this.controllers[i];
      if (c !== undefined) c.abort();
    }
  }

  /** A stable key for sticky balancing: x-session-id header, else body.user, else "". */
  stickyKey(header = "x-session-id"): string {
    const h = this.headers[header];
    if (typeof h === "string" && h) return h;
    const user = this.json?.["user"];
    return typeof user === "string" ? user : "";
  }

  /** Rough input token estimate (4 characters a token) from the raw body. */
  estimatedInputTokens(): number {
    return Math.ceil(this.body.length / 4);
  }

  /**
   * Output tokens the client allows: max_completion_tokens / max_tokens (OpenAI, Anthropic),
   * generationConfig.maxOutputTokens (Gemini); else the fallback.
   */
  maxOutputTokens(fallback: number): number {
    const j = this.json;
    if (j === undefined) return fallback;
    let v = j["max_completion_tokens"] ?? j["max_tokens"];
    if (v === undefined) {
      const g = j["generationConfig"] ?? j["generation_config"];
      if (g !== null && typeof g === "object") {
        const o = g as Record<string, unknown>;
        v = o["maxOutputTokens"] ?? o["max_output_tokens"];
      }
    }
    return typeof v === "number" && v > 0 ? Math.ceil(v) : fallback;
  }
}

const EMPTY = Buffer.alloc(0);
