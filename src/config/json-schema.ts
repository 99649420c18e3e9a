/**
 * The config's JSON Schema (draft 2020-12), made from the zod schema so it can never drift from
 * what `switchyard validate` checks: editors use it to complete and check switchyard.yaml as it
 * is typed (`switchyard schema --out switchyard.schema.json`).
 *
 * It describes the file as written (zod's input side: fields with defaults are optional), with
 * one widening: an editor sees `${VAR}` placeholders before interpolation, so wherever a number,
 * a boolean or one of fixed words is expected, a whole-value `${VAR}` / `${VAR:-default}` is
 * accepted too. Cross-field rules (duplicate ids, a rest route's service…) are not in JSON Schema:
 * `switchyard validate` checks those.
 */
import { z } from "zod";
import { VERSION } from "../version.js";
import { configSchema } from "./schema.js";

export const CONFIG_SCHEMA_ID = "urn:switchyard:config";

type JsonSchema = Record<string, unknown>;

/** A whole value that is one `${VAR}` or `${VAR:-default}` (what interpolate.ts turns into a number or boolean). */
const ENV_REFERENCE: JsonSchema = {
  type: "string",
  pattern: "^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$",
  description: "An environment variable, read when the config is loaded",
};

export function configJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  const { $schema, $defs, ...body } = generated;
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: "Switchyard configuration",
    description: `switchyard.yaml for Switchyard ${VERSION}: the gateway's routes, targets and policies. Made by \`switchyard schema\`; \`switchyard validate\` checks the rest (cross-field rules, environment variables).`,
    ...(withEnvReferences(body) as JsonSchema),
    $defs: { ...($defs ?? {}), env_reference: ENV_REFERENCE },
  };
}

/** The schema as a file's text. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** Every scalar that is not free text (number, integer, boolean, enum, pattern) may also be a `${VAR}`. */
function withEnvReferences(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withEnvReferences);
  if (node === null || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node as JsonSchema))
    // `default`, `const` and `enum` hold values, not schemas.
    out[k] = k === "default" || k === "const" || k === "enum" || k === "examples" ? v : withEnvReferences(v);
  if (!fixedScalar(out)) return out;
  const { default: def, description, ...rest } = out;
  return {
    ...(description === undefined ? {} : { description }),
    ...(def === undefined ? {} : { default: def }),
    anyOf: [rest, { $ref: "#/$defs/env_reference" }],
  };
}

function fixedScalar(s: JsonSchema): boolean {
  const t = s["type"];
  if (t === "number" || t === "integer" || t === "boolean") return true;
  return t === "string" && (s["enum"] !== undefined || s["pattern"] !== undefined || s["const"] !== undefined);
}
