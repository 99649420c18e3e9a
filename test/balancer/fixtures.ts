/** Shared builders for the strategy unit tests: real Target objects from schema-parsed configs. */
import { targetSchema } from "../../src/config/schema.js";
import type { z } from "zod";
import { Target, DEFAULT_TIMEOUTS } from "../../src/core/target.js";
import { RequestContext } from "../../src/core/request-context.js";
import { ENDPOINTS } from "../../src/core/endpoint.js";
import { Outcome, type OutcomeKind } from "../../src/core/outcome.js";
import type { Strategy } from "../../src/balancer/strategy.js";

export type TargetSpec = Partial<z.input<typeof targetSchema>>;

export function makePool(specs: TargetSpec[]): Target[] {
  return specs.map((spec, i) => {
    const cfg = targetSchema.parse({ id: `t${i}`, provider: "openai", base_url: "http://127.0.0.1:1/v1", ...spec });
    return new Target(cfg, "r", i, DEFAULT_TIMEOUTS);
  });
}

export function makeCtx(opts: { headers?: Record<string, string>; json?: Record<string, unknown> } = {}): RequestContext {
  const ctx = new RequestContext("req", ENDPOINTS.chat, "POST", opts.headers ?? {});
  if (opts.json) {
    ctx.json = opts.json;
    ctx.body = Buffer.from(JSON.stringify(opts.json));
  }
  return ctx;
}

export class FakeClock {
  t = 1_000;
  readonly now = (): number => this.t;
}

const OUTCOMES = new Map<OutcomeKind, Outcome>();
export function outcome(kind: OutcomeKind): Outcome {
  let o = OUTCOMES.get(kind);
  if (!o) OUTCOMES.set(kind, (o = new Outcome(kind, kind === "ok" ? 200 : 500, kind)));
  return o;
}

/** What the attempt loop does when an attempt ends: stats first, then the strategy. */
export function finish(strategy: Strategy<Target>, t: Target, kind: OutcomeKind, latencyMs: number, now: number, ctx = makeCtx()): void {
  t.stats.onEnd(kind, latencyMs, now, kind);
  strategy.onResult?.(t, outcome(kind), latencyMs, ctx);
}

/** Picks `count` times in a row with instant, successful calls; returns the ids. */
export function sequence(strategy: Strategy<Target>, eligible: readonly Target[], count: number, ctx = makeCtx()): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = strategy.pick(eligible, ctx);
    if (!t) throw new Error("strategy did not decide");
    t.stats.onStart(0);
    finish(strategy, t, "ok", 1, 0, ctx);
    out.push(t.id);
  }
  return out;
}

/**
 * A discrete-event run: `concurrency` clients each pick, call (taking latencyOf(target, n) ms of
 * fake time, failing when it returns a negative number), and pick again when the call ends.
 * `onPick` sees each pick in order, after its call has started. Returns the ids picked, in order.
 */
export function simulate(
  strategy: Strategy<Target>,
  pool: readonly Target[],
  clock: FakeClock,
  opts: {
    requests: number;
    concurrency: number;
    latencyOf: (t: Target, n: number) => number;
    eligible?: (n: number) => readonly Target[];
    onPick?: (t: Target, n: number) => void;
  },
): string[] {
  const ends: { at: number; t: Target; latency: number; failed: boolean }[] = [];
  const ids: string[] = [];
  const ctx = makeCtx();
  const start = () => {
    const n = ids.length;
    const t = strategy.pick(opts.eligible ? opts.eligible(n) : pool, ctx);
    if (!t) throw new Error("strategy did not decide");
    ids.push(t.id);
    t.stats.onStart(clock.t);
    opts.onPick?.(t, n);
    const l = opts.latencyOf(t, n);
    ends.push({ at: clock.t + Math.abs(l), t, latency: Math.abs(l), failed: l < 0 });
  };
  for (let c = 0; c < opts.concurrency && ids.length < opts.requests; c++) start();
  while (ends.length > 0) {
    let first = 0;
    for (let i = 1; i < ends.length; i++) if (ends[i]!.at < ends[first]!.at) first = i;
    const e = ends.splice(first, 1)[0]!;
    clock.t = e.at;
    finish(strategy, e.t, e.failed ? "server_error" : "ok", e.latency, clock.t, ctx);
    if (ids.length < opts.requests) start();
  }
  return ids;
}
