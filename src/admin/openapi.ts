import { z } from "zod";
import type { OperatorEndpoint } from "../core/operator-endpoint.js";
import { VERSION } from "../version.js";

type Json = Record<string, unknown>;

/** The error every operator endpoint answers with (the REST dialect of the error catalogue). */
const ERROR_SCHEMA: Json = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "status"],
      properties: {
        code: { type: "string", description: "A stable code from the error catalogue (README: Errors), e.g. unknown_target" },
        message: { type: "string" },
        status: { type: "integer" },
        errors: { type: "array", items: { type: "string" }, description: "invalid_config: each field that does not validate" },
      },
    },
  },
};

const errorResponse = (description: string): Json => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

/**
 * The OpenAPI 3.1 document of the operator endpoints (admin API, metrics, usage, alerts,
 * events, dashboard): one list describes them to the server and to this document, so it cannot
 * miss one. Request bodies are the JSON Schema of the zod schema the server validates them with.
 */
export function openApiDocument(endpoints: readonly OperatorEndpoint[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const e of endpoints) (paths[e.path] ??= {})[e.method.toLowerCase()] = operation(e);
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchyard operator API",
      version,
      description:
        "The gateway's own endpoints: status, config, reload, target changes, metrics, usage, alerts. Admin endpoints need `Authorization: Bearer <admin.token>` when a token is set, and are off with `admin.enabled: false`.",
    },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: { adminToken: { type: "http", scheme: "bearer", description: "The config's admin.token" } },
    },
  };
}

function operation(e: OperatorEndpoint): Json {
  const pathParams = [...e.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  const parameters = [
    ...pathParams.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    ...(e.queryParams ?? []).map((name) => ({ name, in: "query", required: false, schema: { type: "string" } })),
  ];
  const responses: Json = { "2XX": { description: "Done" } };
  if (e.body !== undefined || parameters.length > 0)
    responses["400"] = errorResponse("A bad body or parameter: the message names each field");
  if (e.admin) responses["401"] = errorResponse("The admin token is missing or wrong");
  if (pathParams.length > 0) responses["404"] = errorResponse("No such route, target or action");
  responses["default"] = errorResponse("An error from the catalogue");
  return {
    operationId: operationId(e),
    summary: e.summary ?? `${e.method} ${e.path}`,
    tags: [e.path.split("/")[1] ?? ""],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(e.body === undefined ? {} : { requestBody: { required: true, content: { "application/json": { schema: bodySchema(e.body) } } } }),
    responses,
    security: e.admin ? [{ adminToken: [] }] : [],
  };
}

/** The body as a client writes it (zod's input side: fields with defaults are optional). */
function bodySchema(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Json;
  return rest;
}

/** `POST /admin/routes/{route}/targets` → `post_admin_routes_route_targets`: unique while method and path are. */
function operationId(e: OperatorEndpoint): string {
  const words = e.path.split(/[^A-Za-z0-9]+/).filter((w) => w !== "");
  return [e.method.toLowerCase(), ...words].join("_");
}

/**
 * `GET /admin/openapi.json`: the document of every operator endpoint the server has (this one
 * too), made at the first request: the list is fixed once the server is built.
 */
export function openApiEndpoint(getEndpoints: () => readonly OperatorEndpoint[], version = VERSION): OperatorEndpoint {
  let body: string | undefined;
  return {
    method: "GET",
    path: "/admin/openapi.json",
    admin: true,
    summary: "This API as an OpenAPI 3.1 document",
    handle: () => ({
      status: 200,
      contentType: "application/json",
      body: (body ??= JSON.stringify(openApiDocument(getEndpoints(), version))),
    }),
  };
}
