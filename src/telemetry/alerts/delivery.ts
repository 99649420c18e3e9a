import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../logger.js";
import type { AlertNotice } from "./alert-notice.js";
import { BoundedQueue } from "./bounded-queue.js";
import type { Channel } from "./channel.js";
import { type Redactor, reasonOf } from "./redactor.js";

export interface DeliveryOptions {
  /** Retries after the first try. */
  readonly retries: number;
  readonly retryBaseMs: number;
  /** Notices waiting, at most; the oldest is dropped beyond it. */
  readonly capacity: number;
}

/** The longest wait between two tries, whatever the retry count says. */
const MAX_BACKOFF_MS = 300_000;

/**
 * One channel's outbox. `enqueue` only queues and schedules (it runs inside event listeners, on a
 * request's path); a worker sends the notices one at a time, in order (a resolve never overtakes
 * its fire), retrying a failed send with exponential backoff and jitter (base × 2^n × 0.5–1), and
 * logging once, at error level, when a notice could not be delivered.
 */
export class Delivery {
  private readonly queue: BoundedQueue<AlertNotice>;
  private readonly abort = new AbortController();
  private worker: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly channel: Channel,
    private readonly options: DeliveryOptions,
    private readonly log: Logger,
    private readonly redactor: Redactor,
  ) {
    this.queue = new BoundedQueue(options.capacity);
  }

  enqueue(notice: AlertNotice): void {
    if (this.closed) return;
    const dropped = this.queue.push(notice);
    if (dropped !== undefined)
      this.log.warn(
        { channel: this.channel.name, rule: dropped.rule, route: dropped.route, target: dropped.target, status: dropped.status },
        `alert queue of channel ${this.channel.name} is full (${this.options.capacity}): dropped the oldest notice`,
      );
    if (this.worker === null && !this.scheduled) {
      this.scheduled = true;
      setImmediate(startWorker, this);
    }
  }

  /** Called from setImmediate: the sending starts outside the listener that queued. */
  run(): void {
    this.scheduled = false;
    if (this.worker !== null) return;
    this.worker = this.drain()
      // deliver() catches what a channel throws; this is for a bug of ours, which must not become an unhandled rejection.
      .catch((err: unknown) => this.log.error({ err, channel: this.channel.name }, "alert delivery worker failed"))
      .finally(() => this.idle());
  }

  /** The worker ended. A notice queued from a promise continuation just before it did would wait for the next one: start again. */
  private idle(): void {
    this.worker = null;
    if (this.queue.size > 0 && !this.closed && !this.scheduled) {
      this.scheduled = true;
      setImmediate(startWorker, this);
    }
  }

  /**
   * Stops taking notices and waits up to `timeoutMs` for the queue to empty; then cancels what is
   * still in flight (and its retries) and says how many notices were left unsent.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.scheduled) this.run();
    if (this.worker !== null) {
      // Ref'd: a shutdown awaiting stop() must not see the process exit under it. Cleared by the abort below.
      const deadline = sleep(timeoutMs, undefined, { signal: this.abort.signal }).catch(() => {});
      await Promise.race([this.worker, deadline]);
    }
    const unsent = this.queue.size + (this.worker === null ? 0 : 1);
    this.abort.abort(new Error("alerts stopped"));
    await this.worker;
    if (unsent > 0)
      this.log.warn(
        { channel: this.channel.name, unsent },
        `alerts stopped with ${unsent} notice(s) unsent on channel ${this.channel.name}`,
      );
    this.queue.clear();
    this.channel.close();
  }

  private async drain(): Promise<void> {
    const signal = this.abort.signal;
    for (let n = this.queue.shift(); n !== undefined && !signal.aborted; n = this.queue.shift()) await this.deliver(n, signal);
  }

  private async deliver(notice: AlertNotice, signal: AbortSignal): Promise<void> {
    const { retries, retryBaseMs } = this.options;
    let reason = "";
    let tries = 0;
    for (;;) {
      tries++;
      try {
        await this.channel.send(notice, signal);
        if (tries > 1) this.log.info({ channel: this.channel.name, rule: notice.rule, tries }, `alert delivered on try ${tries}`);
        return;
      } catch (err) {
        if (signal.aborted) return; // stopped: counted as unsent by stop()
        reason = this.redactor.scrub(reasonOf(err));
        if (tries > retries) break;
        this.log.debug({ channel: this.channel.name, rule: notice.rule, try: tries, reason }, "alert delivery failed, will retry");
        const exp = Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** (tries - 1));
        try {
          await sleep(exp / 2 + (Math.random() * exp) / 2, undefined, { ref: false, signal });
        } catch {
          return; // stopped while waiting: counted as unsent by stop()
        }
      }
    }
    this.log.error(
      {
        channel: this.channel.name,
        type: this.channel.type,
        rule: notice.rule,
        route: notice.route,
        target: notice.target,
        status: notice.status,
        tries,
        reason,
      },
      `alert delivery to channel ${this.channel.name} failed after ${tries} tries: ${reason}`,
    );
  }
}

function startWorker(d: Delivery): void {
  d.run();
}
