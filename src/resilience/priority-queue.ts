import type { Priority } from "../config/resilience-schema.js";
import { GatewayError } from "../errors.js";
import type { Policy } from "./policy.js";

export const PRIORITY_ORDER: readonly Priority[] = ["critical", "high", "normal", "low"];
const LEVEL: Record<Priority, number> = { critical: 0, high: 1, normal: 2, low: 3 };

/** One request waiting for a target. Fixed shape; resolved by wake(), rejected by its timer. */
class Waiter {
  timer: NodeJS.Timeout | undefined = undefined;
  settled = false;
  constructor(
    readonly level: number,
    readonly enqueuedAt: number,
    readonly resolve: () => void,
    readonly reject: (err: Error) => void,
  ) {}
}

/** A double-ended ring of waiters (no Array.shift on the hot path). */
class Deque {
  private items: (Waiter | undefined)[] = new Array<Waiter | undefined>(16);
  private head = 0;
  length = 0;

  push(w: Waiter): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & (this.items.length - 1)] = w;
    this.length++;
  }
  unshift(w: Waiter): void {
    if (this.length === this.items.length) this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = w;
    this.length++;
  }
  shift(): Waiter | undefined {
    if (this.length === 0) return undefined;
    const w = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.length--;
    return w;
  }
  remove(w: Waiter): void {
    const n = this.length;
    const kept: Waiter[] = [];
    for (let i = 0; i < n; i++) {
      const x = this.shift();
      if (x === undefined) break;
      if (x !== w) kept.push(x);
    }
    for (const x of kept) this.push(x);
  }
  private grow(): void {
    const next: (Waiter | undefined)[] = new Array<Waiter | undefined>(this.items.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}

/**
 * A route's queue for requests that find no target to call: ordered by priority (critical,
 * high, normal, low), FIFO within a priority, bounded in size (overflow → 503 queue_full) and in
 * time (→ 503 queue_timeout; the request never reached an upstream, so retrying is safe).
 * Capacity freed anywhere on the route (an attempt ending) wakes the first waiter, which then
 * tries to pick again. Waiters are this process's own, so the queue never goes through the store.
 */
export class PriorityQueue implements Policy {
  readonly name = "queue";
  private readonly levels = [new Deque(), new Deque(), new Deque(), new Deque()];
  private size = 0;
  /** Totals for status: requests that waited, their summed and longest wait, overflows, timeouts. */
  waited = 0;
  waitMsTotal = 0;
  waitMsMax = 0;
  overflows = 0;
  timeouts = 0;

  constructor(
    readonly capacity: number,
    readonly timeoutMs: number,
  ) {}

  get length(): number {
    return this.size;
  }

  /**
   * Waits for a wake-up, at most until `deadline` (epoch ms). `wakeAt` (a time when a target
   * becomes eligible again by itself, 0 = none) wakes the queue's first waiter, in priority and
   * FIFO order, rather than this one (which then waits on for its deadline): waiters all timed for
   * the same freed quota are served in their order, not their timers'. `front` puts a request
   * that was woken but still found nothing back at the head of its priority.
   */
  wait(priority: Priority, deadline: number, wakeAt: number, front = false): Promise<void> {
    if (!front && this.size >= this.capacity) {
      this.overflows++;
      return Promise.reject(
        new GatewayError("queue_full", `the route's queue is full (${this.capacity} waiting)`, { headers: { "retry-after": "1" } }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const now = Date.now();
      const w = new Waiter(LEVEL[priority], now, resolve, reject);
      const level = this.levelOf(w.level);
      if (front) level.unshift(w);
      else level.push(w);
      this.size++;
      const expire = () => {
        if (w.settled) return;
        w.settled = true;
        level.remove(w);
        this.size--;
        this.timeouts++;
        reject(
          new GatewayError("queue_timeout", `no target became available within the queue timeout of ${this.timeoutMs} ms`, {
            headers: { "retry-after": "1" },
          }),
        );
      };
      if (wakeAt === 0 || deadline <= wakeAt) w.timer = setTimeout(expire, Math.max(0, deadline - now));
      else
        w.timer = setTimeout(() => {
          if (w.settled) return;
          this.wakeOne();
          if (!w.settled) w.timer = setTimeout(expire, Math.max(0, deadline - Date.now()));
        }, wakeAt - now);
    });
  }

  /** Policy hook: an attempt ended, so capacity may be free. */
  onOutcome(): void {
    this.wakeOne();
  }

  status(): Record<string, unknown> {
    return this.toJSON();
  }

  /** The deque of a level from LEVEL (0..3). */
  private levelOf(level: number): Deque {
    const d = this.levels[level];
    if (d === undefined) throw new Error(`priority queue: no level ${level}`);
    return d;
  }

  /** Wakes the first waiter of the highest priority, if any. */
  wakeOne(): void {
    if (this.size === 0) return;
    for (const level of this.levels) {
      const w = level.shift();
      if (w === undefined) continue;
      this.size--;
      w.settled = true;
      clearTimeout(w.timer);
      w.resolve();
      return;
    }
  }

  /** Records how long a request waited in all (from its first enqueue). */
  recordWait(ms: number): void {
    this.waited++;
    this.waitMsTotal += ms;
    if (ms > this.waitMsMax) this.waitMsMax = ms;
  }

  /** Rejects every waiter (shutdown). */
  drain(err: Error): void {
    for (const level of this.levels)
      for (let w = level.shift(); w !== undefined; w = level.shift()) {
        w.settled = true;
        clearTimeout(w.timer);
        w.reject(err);
      }
    this.size = 0;
  }

  toJSON() {
    return {
      capacity: this.capacity,
      timeout_ms: this.timeoutMs,
      waiting: this.size,
      waiting_by_priority: Object.fromEntries(PRIORITY_ORDER.map((p) => [p, this.levelOf(LEVEL[p]).length])),
      waited: this.waited,
      wait_ms_mean: this.waited === 0 ? 0 : Math.round((this.waitMsTotal / this.waited) * 10) / 10,
      wait_ms_max: Math.round(this.waitMsMax),
      overflows: this.overflows,
      timeouts: this.timeouts,
    };
  }
}
