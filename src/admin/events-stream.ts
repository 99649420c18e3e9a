import type { PolicyEvent, TopologyEvent } from "../core/events.js";
import type { EventStreamWriter, OperatorEndpoint, OperatorStream } from "../core/operator-endpoint.js";
import type { Gateway } from "../pipeline/gateway.js";
import { CostToday } from "./cost-today.js";
import { type DashboardState, dashboardState } from "./dashboard-state.js";

export interface EventsOptions {
  /** How often the state goes out, ms (default 1000). */
  readonly tickMs?: number;
  /** State changes kept for a page that opens later (default 100). */
  readonly history?: number;
  /** A tick that failed to build (a bug): the stream skips it and goes on. */
  readonly onError?: (err: unknown) => void;
}

/** One entry of the feed of state changes: a policy moved a target, or the routes were replaced. */
export type ChangeEvent =
  | ({ readonly at: number; readonly kind: "policy" } & PolicyEvent)
  | {
      readonly at: number;
      readonly kind: "topology";
      readonly version: number;
      readonly added: readonly string[];
      readonly removed: readonly string[];
      readonly replaced: readonly string[];
      readonly updated: readonly string[];
      readonly routes_added: readonly string[];
      readonly routes_removed: readonly string[];
    }
  | {
      readonly at: number;
      readonly kind: "config_refused";
      readonly trigger: string;
      readonly version: number;
      readonly errors: readonly string[];
    };

/** What a page gets first: the state, the recent changes (newest first) and the tick period. */
export interface Snapshot extends DashboardState {
  readonly tick_ms: number;
  readonly changes: readonly ChangeEvent[];
}

/** A page that stopped reading is skipped for this long at most between tries. */
const MAX_SKIP_MS = 30_000;

/** One open stream, and how long to leave it alone while its socket is backed up. */
class Subscriber {
  /** Epoch ms before which nothing is sent. */
  skipUntil = 0;
  skipMs = 0;
  constructor(readonly out: EventStreamWriter) {}
}

/**
 *   open ──► snapshot ──► tick, tick, …  (one state per tickMs, built once for every page)
 *                    └──► change          (each policy or topology event, as it happens)
 *
 * The timer runs only while a page listens. A page whose socket is backed up (send answered
 * false) is skipped, for twice as long each time it is still behind, up to MAX_SKIP_MS: its
 * unsent events are dropped, not queued (every tick carries the whole state, so the next one
 * it takes catches it up). Changes are remembered in a bounded ring from setup on, so a page
 * opened after an incident still sees it.
 */
export class LiveFeed {
  private readonly subscribers = new Set<Subscriber>();
  private readonly costs = new CostToday();
  private readonly recent: (ChangeEvent | undefined)[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  readonly tickMs: number;
  /** Events not sent to a page that was behind. */
  skipped = 0;

  constructor(
    private readonly gateway: Gateway,
    private readonly opts: EventsOptions = {},
  ) {
    this.tickMs = opts.tickMs ?? 1_000;
    this.recent = new Array<ChangeEvent | undefined>(opts.history ?? 100);
    const events = gateway.events;
    this.costs.subscribe(events);
    events.onPolicy((e) => this.change({ at: Date.now(), kind: "policy", ...e, reason: this.masked(e.route, e.target, e.reason) }));
    events.onTopology((e) => this.change(topologyChange(e)));
    // An applied change is told by its topology event; a refused one only here.
    events.onConfig((e) => {
      if (!e.ok) this.change({ at: Date.now(), kind: "config_refused", trigger: e.trigger, version: e.version, errors: e.errors });
    });
  }

  /** Pages listening now. */
  get listeners(): number {
    return this.subscribers.size;
  }

  /** Whether the tick timer runs (only while someone listens). */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  /** The server's stream hook: sends the snapshot, then ticks and changes until the page leaves. */
  readonly stream: OperatorStream = {
    open: (out) => {
      const sub = new Subscriber(out);
      const now = Date.now();
      const snapshot: Snapshot = { ...dashboardState(this.gateway, this.costs, now), tick_ms: this.tickMs, changes: this.changes() };
      this.deliver(sub, "snapshot", snapshot, now);
      this.subscribers.add(sub);
      if (this.timer === undefined) {
        this.timer = setInterval(() => this.tick(), this.tickMs);
        this.timer.unref();
      }
      return () => {
        this.subscribers.delete(sub);
        if (this.subscribers.size === 0) this.stop();
      };
    },
  };

  /** The remembered changes, newest first. */
  changes(): ChangeEvent[] {
    const out: ChangeEvent[] = [];
    const n = this.recent.length;
    for (let i = 1; i <= n; i++) {
      const e = this.recent[(this.next - i + n) % n];
      if (e === undefined) break;
      out.push(e);
    }
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.subscribers.size === 0) return this.stop();
    const now = Date.now();
    let state: DashboardState;
    try {
      state = dashboardState(this.gateway, this.costs, now);
    } catch (err) {
      // A timer callback that throws would take the process down; the next tick tries again.
      this.opts.onError?.(err);
      return;
    }
    for (const sub of this.subscribers) this.deliver(sub, "tick", state, now);
  }

  private change(e: ChangeEvent): void {
    if (this.recent.length > 0) {
      this.recent[this.next] = e;
      this.next = (this.next + 1) % this.recent.length;
    }
    const now = e.at;
    for (const sub of this.subscribers) this.deliver(sub, "change", e, now);
  }

  private deliver(sub: Subscriber, event: string, data: unknown, now: number): void {
    if (now < sub.skipUntil) {
      this.skipped++;
      return;
    }
    if (sub.out.send(event, data)) {
      sub.skipMs = 0;
      return;
    }
    sub.skipMs = Math.min(Math.max(this.tickMs, sub.skipMs * 2), MAX_SKIP_MS);
    sub.skipUntil = now + sub.skipMs;
  }

  /** A policy's reason may quote an upstream answer: the target's key is masked in it. */
  private masked(route: string, target: string, text: string): string {
    return (
      this.gateway
        .route(route)
        ?.targets.find((t) => t.id === target)
        ?.maskKeyIn(text) ?? text
    );
  }
}

function topologyChange(e: TopologyEvent): ChangeEvent {
  return {
    at: Date.now(),
    kind: "topology",
    version: e.version,
    added: e.added,
    removed: e.removed,
    replaced: e.replaced,
    updated: e.updated,
    routes_added: e.routesAdded,
    routes_removed: e.routesRemoved,
  };
}

/**
 * GET /admin/events: the live dashboard's feed as server-sent events (`snapshot`, then `tick`
 * every second and `change` as they happen). Admin: the state names every target. Costs count
 * from this call on (and from midnight UTC), so make it once, at setup.
 */
export function eventsEndpoint(gateway: Gateway, opts: EventsOptions = {}): OperatorEndpoint {
  const feed = new LiveFeed(gateway, opts);
  return {
    method: "GET",
    path: "/admin/events",
    admin: true,
    summary: "Live state for the dashboard (server-sent events): a snapshot, a tick per second, each state change",
    handle: () => feed.stream,
  };
}
