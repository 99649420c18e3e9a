import type { IncomingHttpHeaders } from "node:http";
import type { ReadyAnswer } from "./ready-answer.js";
import type { Target } from "./target.js";

/**
 * One observer of a request's upstream answer, set on `ctx.watch` by an admission step that
 * needs to see it (the response cache fills an entry, coalesced twins wait for it). The pipeline
 * and delivery call it; without one (the default) a request pays a null check per chunk.
 *
 *   committed   the engine committed to an upstream answer (any status)
 *   chunk       a chunk of its body as received from the upstream, before any translation
 *   whole       the whole body, when delivery read it whole instead
 *   rescue      every attempt failed (the gateway's 5xx, or a 5xx answer committed to): an answer to
 *               send instead (stale-if-error), or null
 *   ended       once, whatever happened: true when the client got the complete answer
 */
export interface AnswerWatch {
  committed(target: Target, status: number, headers: IncomingHttpHeaders): void;
  chunk(chunk: Buffer): void;
  whole(text: string): void;
  rescue(status: number): ReadyAnswer | null;
  ended(complete: boolean): void;
}
