import { GatewayError } from "../errors.js";
import type { Gateway } from "../pipeline/gateway.js";

/**
 * Operator controls of one target (POST /admin/routes/<route>/targets/<id>/<action>), run by
 * every policy of the route that answers the action:
 *   enable         re-enable a disabled key (auth, quota, failure rate) and lift its bench
 *   disable        take the key out until enabled again
 *   drain          the same, said as an operator means it: no new attempts, calls in flight finish
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
  const now = Date.now();
  route.policies.list.act(action, target, now);
  return route.targetJSON(target, now);
}
