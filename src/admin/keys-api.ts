import { z } from "zod";
import { budgetSchema, inboundLimitsSchema } from "../config/access-schema.js";
import { PRIORITIES } from "../config/resilience-schema.js";
import { jsonAnswer, type OperatorEndpoint } from "../core/operator-endpoint.js";
import type { ClientKeyRegistry, KeyPatch, NewKeySettings } from "../front/client-keys.js";

const KEY = "/admin/keys/{name}";

/** The settings of a key, as in the config's client_keys but without the secret (the gateway makes it). */
const settingsFields = {
  routes: z.array(z.string().min(1)),
  models: z.array(z.string().min(1)),
  limits: inboundLimitsSchema,
  budget: budgetSchema.omit({ fallback_route: true }).strict(),
  priority: z.enum(PRIORITIES, { error: `must be one of ${PRIORITIES.join(", ")}` }),
  expires_at: z.iso.datetime({ offset: true, error: "must be an ISO date-time like 2027-01-01T00:00:00Z" }),
  disabled: z.boolean({ error: "must be true or false" }),
  metadata: z.record(z.string(), z.string()),
};

const createBody = z
  .object({
    name: z.string({ error: "must be a string" }).min(1, { error: "must not be empty (the key's name)" }),
    routes: settingsFields.routes.optional(),
    models: settingsFields.models.optional(),
    limits: settingsFields.limits.optional(),
    budget: settingsFields.budget.optional(),
    priority: settingsFields.priority.optional(),
    expires_at: settingsFields.expires_at.optional(),
    disabled: settingsFields.disabled.optional(),
    metadata: settingsFields.metadata.optional(),
  })
  .strict();

/** A patch: what it names changes; null clears a restriction (routes, models, budget, priority, expiry). */
const patchBody = z
  .object({
    routes: settingsFields.routes.nullable().optional(),
    models: settingsFields.models.nullable().optional(),
    limits: settingsFields.limits.optional(),
    budget: settingsFields.budget.nullable().optional(),
    priority: settingsFields.priority.nullable().optional(),
    expires_at: settingsFields.expires_at.nullable().optional(),
    disabled: settingsFields.disabled.optional(),
    metadata: settingsFields.metadata.optional(),
  })
  .strict();

/**
 * The admin API of client keys: make one (its secret is in that answer only, never again: the
 * gateway keeps its SHA-256), list them (the last 4 characters of each, never a hash), change or
 * delete one. Keys of the config file are listed too, and changed only there.
 */
export function keysEndpoints(keys: ClientKeyRegistry): OperatorEndpoint[] {
  return [
    {
      method: "POST",
      path: "/admin/keys",
      admin: true,
      summary: "Makes a client key; the answer holds its secret, shown this once (only its SHA-256 is kept)",
      body: createBody,
      handle: ({ body }) => {
        const { key, secret } = keys.create(body as NewKeySettings);
        return jsonAnswer({ ...key.view(), key: secret, note: "the key is shown only in this answer: keep it now" }, 201);
      },
    },
    {
      method: "GET",
      path: "/admin/keys",
      admin: true,
      summary: "Every client key (config and API), masked to its last 4 characters",
      handle: () => jsonAnswer({ enabled: keys.enabled, keys: keys.list() }),
    },
    {
      method: "PATCH",
      path: KEY,
      admin: true,
      summary: "Changes an API key: disabled, routes, models, limits, budget, priority, expires_at, metadata (null clears)",
      body: patchBody,
      handle: ({ params, body }) => jsonAnswer(keys.update(params.name ?? "", body as KeyPatch).view()),
    },
    {
      method: "DELETE",
      path: KEY,
      admin: true,
      summary: "Deletes an API key: its next request is refused (config keys are removed from the file)",
      handle: ({ params }) => {
        const name = params.name ?? "";
        keys.remove(name);
        const open = !keys.enabled;
        return jsonAnswer({
          deleted: name,
          ...(open ? { warning: "no client key is left: the gateway now serves anyone (as with client keys off)" } : {}),
        });
      },
    },
  ];
}
