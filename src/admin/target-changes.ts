import type { TargetConfig } from "../config/schema.js";
import type { ConfigDraft } from "../control/control-plane.js";
import { GatewayError } from "../errors.js";

/**
 * The admin API's target changes, each an edit of a copy of the running config (the control
 * plane validates and applies the result like a config file). They throw GatewayErrors for an
 * unknown route or target, or a duplicate id.
 */
type DraftRoute = ConfigDraft["routes"][number];

function routeOf(draft: ConfigDraft, route: string): DraftRoute {
  const r = draft.routes.find((x) => x.name === route);
  if (r === undefined) throw new GatewayError("unknown_route", `no route named "${route}"`);
  return r;
}

function indexOf(r: DraftRoute, target: string): number {
  const i = r.targets.findIndex((t) => t.id === target);
  if (i === -1) throw new GatewayError("unknown_target", `route "${r.name}" has no target "${target}"`);
  return i;
}

export function addTarget(draft: ConfigDraft, route: string, target: TargetConfig): void {
  const r = routeOf(draft, route);
  if (r.targets.some((t) => t.id === target.id))
    throw new GatewayError("target_exists", `route "${route}" already has a target "${target.id}"`);
  r.targets.push(target);
}

export function removeTarget(draft: ConfigDraft, route: string, target: string): void {
  const r = routeOf(draft, route);
  r.targets.splice(indexOf(r, target), 1);
}

/** Sets the fields a patch names (weight, tier, limits, model, headers…); the id stays. */
export function patchTarget(draft: ConfigDraft, route: string, target: string, patch: Readonly<Record<string, unknown>>): void {
  const r = routeOf(draft, route);
  const i = indexOf(r, target);
  r.targets[i] = { ...r.targets[i], ...patch, id: target } as TargetConfig;
}

/** A new key for a target: same id and base URL, so its breaker, stats and benches carry on. */
export function rotateKey(draft: ConfigDraft, route: string, target: string, key: string): void {
  patchTarget(draft, route, target, { key });
}
