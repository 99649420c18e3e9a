import { z } from "zod";
import { targetFields, targetSchema, type TargetConfig } from "../config/schema.js";
import { maskConfig } from "../config/mask.js";
import { jsonAnswer, type OperatorAnswer, type OperatorEndpoint } from "../core/operator-endpoint.js";
import type { ControlPlane, ReloadResult } from "../control/control-plane.js";
import { GatewayError } from "../errors.js";
import { runTargetAction } from "./target-actions.js";
import { addTarget, patchTarget, removeTarget, rotateKey } from "./target-changes.js";

const TARGET = "/admin/routes/{route}/targets/{target}";

/** A patch: any target field but its id (validated with the whole config once applied). */
const targetPatch = targetFields.omit({ id: true }).partial();
const keyBody = z.object({ key: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }) }).strict();

/**
 * The admin API under /admin: status, the masked config, reload, stats reset, and a route's
 * targets added, removed (with drain), patched, re-keyed and acted on (enable, disable,
 * reset-breaker…). Every change goes through the control plane: validated like a config file,
 * applied in one step. Answers never hold a secret (keys masked to their last 4 characters).
 */
export function adminEndpoints(control: ControlPlane): OperatorEndpoint[] {
  const gw = control.gateway;
  return [
    {
      method: "GET",
      path: "/admin/status",
      admin: true,
      summary: "The gateway now: totals, every route and target with its stats, windows and policy states",
      handle: () => jsonAnswer({ ...gw.status(), admission: gw.pipeline.statuses(), control: control.toJSON() }),
    },
    {
      method: "GET",
      path: "/admin/config",
      admin: true,
      summary: "The running config, defaults filled in, secrets masked",
      handle: () => jsonAnswer(maskConfig(gw.config)),
    },
    {
      method: "POST",
      path: "/admin/reload",
      admin: true,
      summary:
        "Reads the config source again and applies it, the run-time changes again over it (?discard_runtime_changes=true: the source alone); in-flight requests finish on the old one; errors change nothing",
      queryParams: ["discard_runtime_changes"],
      handle: async ({ query }) =>
        changeAnswer(await control.reload("admin", { discardRuntimeChanges: query.get("discard_runtime_changes") === "true" })),
    },
    {
      method: "POST",
      path: "/admin/stats/reset",
      admin: true,
      summary: "Zeroes the statistics of every route, one route (?route=) or one target (?route=&target=); policy state stays",
      queryParams: ["route", "target"],
      handle: ({ query }) => {
        const route = query.get("route") ?? undefined;
        const target = query.get("target") ?? undefined;
        if (target !== undefined && route === undefined) throw new GatewayError("invalid_request", "?target= needs ?route= too");
        if (route !== undefined && gw.route(route) === undefined) throw new GatewayError("unknown_route", `no route named "${route}"`);
        const reset = gw.engine.resetStats(route, target);
        if (target !== undefined && reset === 0)
          throw new GatewayError("unknown_target", `route "${route ?? ""}" has no target "${target}"`);
        return jsonAnswer({ reset_targets: reset, route: route ?? null, target: target ?? null });
      },
    },
    {
      method: "POST",
      path: "/admin/routes/{route}/targets",
      admin: true,
      summary: "Adds a target (validated exactly like one in the config file); it takes traffic at once",
      body: targetSchema,
      handle: async ({ params, body }) => {
        const target = body as TargetConfig;
        const route = params.route ?? "";
        return changeAnswer(await control.change(`add ${route}/${target.id}`, (d) => addTarget(d, route, target)), 201);
      },
    },
    {
      method: "DELETE",
      path: TARGET,
      admin: true,
      summary: "Removes a target: it takes no new attempts, its calls in flight finish, then its connections close",
      handle: async ({ params }) => {
        const route = params.route ?? "";
        const target = params.target ?? "";
        const inFlight = gw.route(route)?.targets.find((t) => t.id === target)?.stats.inFlight ?? 0;
        const result = await control.change(`remove ${route}/${target}`, (d) => removeTarget(d, route, target));
        return changeAnswer(result, 200, { draining_in_flight: inFlight });
      },
    },
    {
      method: "PATCH",
      path: TARGET,
      admin: true,
      summary: "Changes a target's settings (weight, tier, limits, model, headers…); its breaker, stats and state are kept",
      body: targetPatch,
      handle: async ({ params, rawBody }) => {
        const route = params.route ?? "";
        const target = params.target ?? "";
        const patch = rawBody as Record<string, unknown>;
        return changeAnswer(
          await control.change(`patch ${route}/${target} (${Object.keys(patch).join(", ")})`, (d) => patchTarget(d, route, target, patch)),
        );
      },
    },
    {
      method: "PUT",
      path: `${TARGET}/key`,
      admin: true,
      summary: "Rotates a target's key: requests in flight finish with the old key, every new attempt uses the new one",
      body: keyBody,
      handle: async ({ params, body }) => {
        const route = params.route ?? "";
        const target = params.target ?? "";
        const { key } = body as z.output<typeof keyBody>;
        return changeAnswer(await control.change(`rotate key of ${route}/${target}`, (d) => rotateKey(d, route, target, key)));
      },
    },
    {
      method: "POST",
      path: `${TARGET}/{action}`,
      admin: true,
      summary: "An operator action on a target: enable, disable, drain, reset-breaker, open-breaker, clear-bench",
      handle: ({ params }) => jsonAnswer(runTargetAction(gw, params.route ?? "", params.target ?? "", params.action ?? "")),
    },
  ];
}

/** A change's answer: the change and the generation now running, or 400 with every config error. */
function changeAnswer(result: ReloadResult, status = 200, extra: Record<string, unknown> = {}): OperatorAnswer {
  if (result.ok) return jsonAnswer({ ...result, ...extra }, status);
  const message = `the change does not validate; nothing changed: ${result.errors.join("; ")}`;
  return jsonAnswer({ error: { code: "invalid_config", message, status: 400, errors: result.errors }, ...result }, 400);
}
