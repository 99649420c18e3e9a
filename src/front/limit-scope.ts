import type { InboundLimits } from "../config/access-schema.js";
import { SlidingWindow } from "./sliding-window.js";
import { TokenBucket } from "./token-bucket.js";

/**
 * The inbound limits of one scope (a client key, a route, or the whole gateway), with their
 * state and the strings of their IETF headers (draft-ietf-httpapi-ratelimit-headers), made once
 * at setup so a request only fills in numbers:
 *
 *   RateLimit-Policy: "route-chat-rps";q=50;w=1          what the limit is
 *   RateLimit:        "route-chat-rps";r=12;t=1          what is left now, and in how many s it is whole again
 *
 *   rps, burst   SlidingWindow: at most `burst` (default rps, at least 1) in any burst/rps seconds
 *   rpm          SlidingWindow: at most rpm in any 60 s
 *   tpm          TokenBucket of tpm refilled tpm/60 a second: takes the estimate, corrected later
 *   max_parallel a count of the scope's requests in flight (always counted, so one added by a
 *                reload starts from the truth)
 *
 * A reload builds new scopes from the old ones: a limit whose numbers did not change keeps its
 * state object, and the in-flight count always carries over.
 */
export type LimitKind = "rps" | "rpm" | "tpm" | "parallel";

const MINUTE_MS = 60_000;

/** Requests of a scope in flight: an object of its own so that a reload hands it to the scope's successor. */
export class InFlight {
  n = 0;
}

/** One limit as advertised: its RateLimit-Policy item and the head of its RateLimit item. */
export class Policy {
  /** `"<name>";r=` — the RateLimit item is this, the remaining count, then `;t=<s>`. */
  readonly head: string;
  constructor(
    readonly kind: LimitKind,
    /** `"<name>";q=<quota>;w=<window s>` (and `;qu=…` for units other than requests). */
    readonly item: string,
    name: string,
    /** What a message names: "50 requests per 1 s". */
    readonly describe: string,
  ) {
    this.head = `${name};r=`;
  }
}

export class LimitScope {
  readonly rps: SlidingWindow | null;
  readonly rpm: SlidingWindow | null;
  readonly tpm: TokenBucket | null;
  /** 0: no limit. */
  readonly maxParallel: number;
  readonly inFlight: InFlight;
  readonly rpsPolicy: Policy | null;
  readonly rpmPolicy: Policy | null;
  readonly tpmPolicy: Policy | null;
  readonly parallelPolicy: Policy | null;
  /** This scope divided among `sharedBy` instances (share()), made at the first need. */
  private shared: LimitScope | null = null;
  private sharedBy = 0;

  /**
   * @param id     the policy names' prefix: `global`, `route-<name>`, `key-<name>`
   * @param label  how messages name the scope: `global`, `route "chat"`, `key "team-a"`
   */
  constructor(
    readonly id: string,
    readonly label: string,
    readonly limits: InboundLimits,
    previous: LimitScope | undefined,
    now: number,
  ) {
    const same = (k: keyof InboundLimits) => previous !== undefined && previous.limits[k] === limits[k];
    const rps = limits.rps;
    const burst = rps === undefined ? 0 : (limits.burst ?? Math.max(1, Math.floor(rps)));
    this.rps =
      rps === undefined
        ? null
        : same("rps") && same("burst") && previous?.rps
          ? previous.rps
          : new SlidingWindow(burst, (burst / rps) * 1000);
    this.rpm = limits.rpm === undefined ? null : same("rpm") && previous?.rpm ? previous.rpm : new SlidingWindow(limits.rpm, MINUTE_MS);
    this.tpm = limits.tpm === undefined ? null : same("tpm") && previous?.tpm ? previous.tpm : new TokenBucket(limits.tpm, MINUTE_MS, now);
    this.maxParallel = limits.max_parallel ?? 0;
    this.inFlight = previous?.inFlight ?? new InFlight();
    this.rpsPolicy = rps === undefined ? null : windowPolicy("rps", id, burst, burst / rps);
    this.rpmPolicy = limits.rpm === undefined ? null : windowPolicy("rpm", id, limits.rpm, 60);
    const tpmName = policyName(id, "tpm");
    this.tpmPolicy =
      limits.tpm === undefined
        ? null
        : new Policy("tpm", `${tpmName};q=${limits.tpm};w=60;qu="tokens"`, tpmName, `${limits.tpm} tokens per minute`);
    const parName = policyName(id, "parallel");
    this.parallelPolicy =
      this.maxParallel === 0
        ? null
        : new Policy(
            "parallel",
            `${parName};q=${this.maxParallel};qu="concurrent-requests"`,
            parName,
            `${this.maxParallel} requests in parallel`,
          );
  }

  /**
   * This scope with every limit divided among `instances` processes (itself for 1): what one
   * instance enforces on its own while the instances cannot count together (a Redis outage with
   * `on_outage: split`). Made once per count and kept; it shares this scope's in-flight count.
   */
  share(instances: number, now: number): LimitScope {
    if (instances <= 1) return this;
    if (this.shared !== null && this.sharedBy === instances) return this.shared;
    this.sharedBy = instances;
    return (this.shared = new LimitScope(this.id, this.label, divided(this.limits, instances), this, now));
  }

  /** The max_parallel one instance of `instances` enforces: its share, at least 1 (0: no limit). */
  parallelShare(instances: number): number {
    return this.maxParallel === 0 ? 0 : Math.max(1, Math.floor(this.maxParallel / Math.max(1, instances)));
  }

  /** Whether a scope with these limits limits anything. */
  static limits(l: InboundLimits): boolean {
    return l.rps !== undefined || l.rpm !== undefined || l.tpm !== undefined || l.max_parallel !== undefined;
  }

  /** The units of tokens this scope's bucket takes for an estimate: at most its size, so a request larger than the whole quota passes once the bucket is full. */
  tokensToTake(tokens: number): number {
    const b = this.tpm;
    return b === null || tokens <= 0 ? 0 : Math.min(tokens, b.capacity);
  }

  /** Notes in `v` every limit of this scope the request would break now (checks only, takes nothing). */
  check(tokens: number, now: number, v: Verdict): void {
    const { rps, rpm, tpm } = this;
    if (rps !== null && rps.remaining(now) === 0) v.refuse(this, this.rpsPolicy as Policy, rps.waitMs(now));
    if (rpm !== null && rpm.remaining(now) === 0) v.refuse(this, this.rpmPolicy as Policy, rpm.waitMs(now));
    if (tpm !== null && tokens > 0) {
      const need = this.tokensToTake(tokens);
      const level = tpm.available(now);
      if (level < need) v.refuse(this, this.tpmPolicy as Policy, tpm.waitMs(need, now), Math.max(0, Math.floor(level)));
    }
    // Nothing tells when a slot frees: the client is asked to come back in a second.
    if (this.maxParallel > 0 && this.inFlight.n >= this.maxParallel) v.refuse(this, this.parallelPolicy as Policy, 1000);
  }

  /** Takes what the request uses (after every scope checked), and notes this scope's tightest limit in `t`. */
  take(tokens: number, now: number, t: Tightest): void {
    const { rps, rpm, tpm } = this;
    if (rps !== null) {
      rps.take(now);
      t.offer(this.rpsPolicy as Policy, rps.remaining(now), rps.capacity, rps.resetMs(now));
    }
    if (rpm !== null) {
      rpm.take(now);
      t.offer(this.rpmPolicy as Policy, rpm.remaining(now), rpm.capacity, rpm.resetMs(now));
    }
    if (tpm !== null) {
      const n = this.tokensToTake(tokens);
      if (n > 0) tpm.take(n, now);
      t.offer(this.tpmPolicy as Policy, Math.max(0, Math.floor(tpm.available(now))), tpm.capacity, tpm.resetMs(now));
    }
    this.inFlight.n++;
    if (this.maxParallel > 0) t.offer(this.parallelPolicy as Policy, Math.max(0, this.maxParallel - this.inFlight.n), this.maxParallel, -1);
  }
}

/** What the checks found: the first limit refused (the one the message names) and the longest wait of all refused. */
export class Verdict {
  scope: LimitScope | null = null;
  policy: Policy | null = null;
  /** The wait of the limit named. */
  firstWaitMs = 0;
  /** The longest wait of all refused: the Retry-After. */
  waitMs = 0;
  /** What is left of the limit named (tokens of a tpm bucket; 0 for a full window or parallel). */
  left = 0;

  reset(): this {
    this.scope = null;
    this.policy = null;
    this.firstWaitMs = this.waitMs = this.left = 0;
    return this;
  }

  refuse(scope: LimitScope, policy: Policy, waitMs: number, left = 0): void {
    if (this.scope === null) {
      this.scope = scope;
      this.policy = policy;
      this.firstWaitMs = waitMs;
      this.left = left;
    }
    if (waitMs > this.waitMs) this.waitMs = waitMs;
  }
}

/** The limit nearest to refusing after a request was admitted (least left, relative to its quota): the one a successful answer advertises. */
export class Tightest {
  policy: Policy | null = null;
  remaining = 0;
  resetMs = -1;
  private ratio = 2;

  reset(): this {
    this.policy = null;
    this.ratio = 2;
    return this;
  }

  offer(policy: Policy, remaining: number, quota: number, resetMs: number): void {
    const ratio = remaining / quota;
    if (ratio >= this.ratio) return;
    this.ratio = ratio;
    this.policy = policy;
    this.remaining = remaining;
    this.resetMs = resetMs;
  }

  /** The RateLimit field's value. */
  field(): string {
    const p = this.policy as Policy;
    return this.resetMs < 0 ? `${p.head}${this.remaining}` : `${p.head}${this.remaining};t=${seconds(this.resetMs)}`;
  }
}

/**
 * Limits divided among `n` instances, so that together they stay near the whole: rates and token
 * quotas divided, counts (burst, rpm, max_parallel) rounded down to at least 1.
 */
function divided(l: InboundLimits, n: number): InboundLimits {
  const out: InboundLimits = { ...l };
  if (l.rps !== undefined) {
    out.rps = l.rps / n;
    out.burst = Math.max(1, Math.floor((l.burst ?? Math.max(1, Math.floor(l.rps))) / n));
  }
  if (l.rpm !== undefined) out.rpm = Math.max(1, Math.floor(l.rpm / n));
  if (l.tpm !== undefined) out.tpm = l.tpm / n;
  if (l.max_parallel !== undefined) out.max_parallel = Math.max(1, Math.floor(l.max_parallel / n));
  return out;
}

/** ms as whole seconds, rounded up; to the ms first, so float noise (1000.0000000000009) is not a second more. */
export function seconds(ms: number): number {
  return Math.ceil(Math.round(ms) / 1000);
}

/**
 * A window limit as advertised. The draft's window is whole seconds: a window under a second
 * (burst 1 at 2 rps) is advertised as its rate per second, the long-run truth.
 */
function windowPolicy(kind: "rps" | "rpm", id: string, capacity: number, windowS: number): Policy {
  const name = policyName(id, kind);
  const w = Math.max(1, Math.round(windowS));
  const q = w === windowS ? capacity : Math.max(1, Math.round((capacity / windowS) * w));
  return new Policy(kind, `${name};q=${q};w=${w}`, name, `${q} requests per ${w === 60 && kind === "rpm" ? "minute" : `${w} s`}`);
}

/** A policy name as a structured-field string: printable ASCII, quotes and backslashes escaped. */
function policyName(id: string, kind: LimitKind): string {
  const raw = `${id}-${kind}`.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "\\$&");
  return `"${raw}"`;
}
