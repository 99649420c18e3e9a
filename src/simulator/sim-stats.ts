/**
 * What a simulated provider saw: counters plus a bounded log of the last requests, so a test
 * can prove things like "no call reached key K between t1 and t2" or "the hedge loser was
 * cancelled" (aborted). A log entry is written when the request arrives and completed when it
 * ends; the ring reuses its slot objects.
 */

export interface SimLogEntry {
  /** Epoch ms when the request arrived. */
  at: number;
  key: string;
  method: string;
  path: string;
  /** Status sent, 0 if none (hung, reset, still in flight). */
  status: number;
  /** The client closed before the response finished. */
  aborted: boolean;
}

export interface SimStatsSnapshot {
  name: string;
  /** Requests received (control API and /health excluded). */
  requests: number;
  in_flight: number;
  max_in_flight: number;
  /** Responses sent in full. */
  completed: number;
  /** The client closed before the response finished. */
  aborted: number;
  /** The sim closed the connection on purpose (reset, drop_after_chunks, down, close). */
  dropped: number;
  health_checks: number;
  by_status: Record<string, number>;
  by_key: Record<string, number>;
  by_path: Record<string, number>;
  log: SimLogEntry[];
}

export const LOG_CAPACITY = 10_000;

class LogSlot implements SimLogEntry {
  at = 0;
  key = "";
  method = "";
  path = "";
  status = 0;
  aborted = false;
  /** Which request owns the slot now; an ending request updates the slot only if still its own. */
  seq = 0;
}

/** Handle a request keeps to close its log entry. */
export interface StatsTicket {
  slot: LogSlot;
  seq: number;
}

/** How a request ended. */
export type EndKind = "completed" | "aborted" | "dropped";

export class SimStats {
  requests = 0;
  inFlight = 0;
  maxInFlight = 0;
  completed = 0;
  aborted = 0;
  dropped = 0;
  healthChecks = 0;
  readonly #byStatus = new Map<number, number>();
  readonly #byKey = new Map<string, number>();
  readonly #byPath = new Map<string, number>();
  #ring: LogSlot[] = [];
  /** Entries ever written since the last reset; the next slot is #written % capacity. */
  #written = 0;

  constructor(
    readonly name: string,
    readonly capacity = LOG_CAPACITY,
  ) {}

  begin(at: number, key: string, method: string, path: string): StatsTicket {
    this.requests++;
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    if (key !== "") bump(this.#byKey, key);
    bump(this.#byPath, path);
    const i = this.#written % this.capacity;
    let slot = this.#ring[i];
    if (slot === undefined) this.#ring[i] = slot = new LogSlot();
    const seq = ++this.#written;
    slot.at = at;
    slot.key = key;
    slot.method = method;
    slot.path = path;
    slot.status = 0;
    slot.aborted = false;
    slot.seq = seq;
    return { slot, seq };
  }

  end(ticket: StatsTicket, status: number, how: EndKind): void {
    this.inFlight--;
    if (status > 0) bump(this.#byStatus, status);
    if (how === "completed") this.completed++;
    else if (how === "aborted") this.aborted++;
    else this.dropped++;
    if (ticket.slot.seq === ticket.seq) {
      ticket.slot.status = status;
      ticket.slot.aborted = how === "aborted";
    }
  }

  /** Zeroes counters and the log; requests in flight stay counted as in flight. */
  reset(): void {
    this.requests = this.completed = this.aborted = this.dropped = this.healthChecks = 0;
    this.maxInFlight = this.inFlight;
    this.#byStatus.clear();
    this.#byKey.clear();
    this.#byPath.clear();
    this.#ring = [];
    this.#written = 0;
  }

  snapshot(): SimStatsSnapshot {
    const n = Math.min(this.#written, this.capacity);
    const log: SimLogEntry[] = [];
    const first = this.#written - n;
    for (let k = 0; k < n; k++) {
      // The last n of #written entries: begin() created each of their slots.
      const s = this.#ring[(first + k) % this.capacity];
      if (s === undefined) continue;
      log.push({ at: s.at, key: s.key, method: s.method, path: s.path, status: s.status, aborted: s.aborted });
    }
    return {
      name: this.name,
      requests: this.requests,
      in_flight: this.inFlight,
      max_in_flight: this.maxInFlight,
      completed: this.completed,
      aborted: this.aborted,
      dropped: this.dropped,
      health_checks: this.healthChecks,
      by_status: Object.fromEntries(this.#byStatus),
      by_key: Object.fromEntries(this.#byKey),
      by_path: Object.fromEntries(this.#byPath),
      log,
    };
  }
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
