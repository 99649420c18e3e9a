import type { PolicyEvent } from "../../core/events.js";
import type { AlertRule } from "./alert-rule.js";
import type { Observation } from "./alert-states.js";

/**
 * breaker_open and key_disabled follow a target's state as policy events report it. A breaker
 * fires on open or forced_open and resolves on closed; half_open (probing) changes nothing, so an
 * open → half_open → open cycle stays one alert. A key fires on disabled and resolves on anything else.
 * Null when the event is not this rule's.
 */
export function observePolicy(rule: AlertRule, e: PolicyEvent): Observation | null {
  if (rule.route !== undefined && rule.route !== e.route) return null;
  if (rule.kind === "breaker_open" && e.policy === "breaker") {
    if (e.to === "open" || e.to === "forced_open") return seen(rule, e, true, `breaker ${e.to.replace("_", " ")} (${e.reason})`);
    if (e.to === "closed") return seen(rule, e, false, `breaker closed (${e.reason})`);
    return null;
  }
  if (rule.kind === "key_disabled" && e.policy === "key") {
    const disabled = e.to === "disabled";
    return seen(rule, e, disabled, `key ${disabled ? "disabled" : `${e.to} again`} (${e.reason})`);
  }
  return null;
}

function seen(rule: AlertRule, e: PolicyEvent, holds: boolean, detail: string): Observation {
  return { rule, route: e.route, target: e.target, holds, value: e.to, detail };
}
