import { GatewayError } from "../errors.js";
import type { Gateway } from "../engine/engine.js";

export const TARGET_ACTIONS = ["enable", "disable", "reset-breaker", "open-breaker", "clear-bench"] as const;
export type TargetAction = (typeof TARGET_ACTIONS)[number];

/**
 * Operator controls of one target (POST /admin/routes/<route>/targets/<id>/<action>):
 *   enable         re-enable a disabled key (auth, quota, failure rate) and clear its bench
 *   disable        take the key out until enabled again
 *   reset-breaker  close its breaker with a clean window
 *   open-breaker   hold its breaker open until reset
 *   clear-bench    lift a rate-limit bench
 * Returns the target's status after the action.
 */
export function runTargetAction(gw: Gateway, routeName: string, targetId: string, action: string): unknown {
  const route = gw.route(routeName);
  if (route === undefined) throw new GatewayError("unknown_route", `no route named "${routeName}"`);
  const target = route.targets.find((t) => t.id === targetId);
  if (target === undefined) throw new GatewayError("unknown_target", `route "${routeName}" has no target "${targetId}"`);
  const p = route.policies;
  const now = Date.now();
  switch (action as TargetAction) {
    case "enable":
      p.keys.enable(target, now);
      p.bench.clear(target);
      break;
    case "disable":
      p.keys.disable(target, "operator", "disabled by operator", now);
      break;
    case "reset-breaker":
      p.breakers[target.index]!.reset();
      break;
    case "open-breaker":
      p.breakers[target.index]!.forceOpen();
      break;
    case "clear-bench":
      p.bench.clear(target);
      break;
    default:
      throw new GatewayError("unknown_action", `unknown action "${action}" (one of ${TARGET_ACTIONS.join(", ")})`);
  }
  return route.toJSON(now).targets[target.index];
}
