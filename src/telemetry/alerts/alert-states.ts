import type { AlertNotice } from "./alert-notice.js";
import type { AlertRule } from "./alert-rule.js";

/** What a rule saw of one subject (rule, route, target) at one moment. */
export interface Observation {
  readonly rule: AlertRule;
  readonly route: string | null;
  readonly target: string | null;
  /** true: the condition holds; false: it does not; null: too little data to tell (nothing changes). */
  readonly holds: boolean | null;
  readonly value: number | string | null;
  readonly detail: string;
}

/**
 * One subject's life. A condition that comes back within the rule's cooldown after a resolve is
 * held back (pending) rather than sent: a flapping breaker gives one fire and one resolve per
 * cooldown, not a storm. If it still holds when the cooldown ends it fires then (a breaker that
 * reopened and stayed open must not go unreported); if it clears first, nothing is sent at all.
 *
 *            holds                        clears
 *   quiet ──────────► firing ─────────────────────► cooled-down (resolvedAt)
 *     ▲                  ▲                               │ holds within cooldown
 *     │                  │ cooldown over, still holds    ▼
 *     │                  └──────────────────────────── pending ──clears──► (back to cooled-down, silent)
 */
class SubjectState {
  /** The notice it fired with; null while not firing. */
  current: AlertNotice | null = null;
  pending: Observation | null = null;
  /** When it last resolved; -Infinity before it ever did. */
  resolvedAt = Number.NEGATIVE_INFINITY;
}

/** Receives each notice worth sending, with the rule that made it. */
export type NoticeSink = (notice: AlertNotice, rule: AlertRule) => void;

/** Dedup and cooldown for every subject: turns observations into the few notices worth sending. */
export class AlertStates {
  private readonly states = new Map<string, SubjectState>();

  constructor(private readonly emit: NoticeSink) {}

  /** Emits a notice when the subject starts firing or resolves. */
  observe(o: Observation, now: number): void {
    if (o.holds === null) return;
    const key = subjectKey(o);
    let s = this.states.get(key);
    if (!o.holds) {
      if (s === undefined) return;
      s.pending = null;
      const fired = s.current;
      if (fired === null) return;
      s.current = null;
      s.resolvedAt = now;
      this.emit(notice(o, "resolved", fired.startedAt, now), o.rule);
      return;
    }
    if (s === undefined) this.states.set(key, (s = new SubjectState()));
    if (s.current !== null) return;
    if (now - s.resolvedAt < o.rule.cooldownMs) s.pending = o;
    else this.fire(s, o, now);
  }

  /** Held-back conditions whose cooldown is over fire now (the condition still holds: nothing cleared it). */
  firePending(now: number): void {
    for (const s of this.states.values()) {
      const o = s.pending;
      if (o !== null && now - s.resolvedAt >= o.rule.cooldownMs) this.fire(s, o, now);
    }
  }

  /** The alerts firing now, as their firing notices. */
  firing(): AlertNotice[] {
    const out: AlertNotice[] = [];
    for (const s of this.states.values()) if (s.current !== null) out.push(s.current);
    return out;
  }

  private fire(s: SubjectState, o: Observation, now: number): void {
    s.pending = null;
    s.current = notice(o, "firing", now, null);
    this.emit(s.current, o.rule);
  }
}

function subjectKey(o: Observation): string {
  return `${o.rule.name}\n${o.route ?? ""}\n${o.target ?? ""}`;
}

function notice(o: Observation, status: AlertNotice["status"], startedAt: number, resolvedAt: number | null): AlertNotice {
  const r = o.rule;
  return {
    status,
    rule: r.name,
    kind: r.kind,
    route: o.route,
    target: o.target,
    value: o.value,
    threshold: r.threshold,
    detail: o.detail,
    startedAt,
    resolvedAt,
  };
}
