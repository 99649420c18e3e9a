import { isRecord } from "../errors.js";

/**
 * Gemini's `Schema` (an OpenAPI 3.0 subset, as a Gemini client sends `parameters` and
 * `responseSchema`) → JSON Schema, the canonical form's dialect. The Gemini SDKs write types in
 * upper case (`Type.OBJECT` is "OBJECT"), which no other provider accepts:
 *
 *   type: "OBJECT"            → type: "object"   (every type name lower-cased)
 *   type: T, nullable: true   → type: [T, "null"]
 *   example: x                → examples: [x]
 *   propertyOrdering          → removed (Gemini's own output-order hint)
 *   properties, items, anyOf  → converted recursively
 *
 * Back towards a Gemini target, schema-subset.ts rewrites JSON Schema into the subset again.
 */
export function schemaFromOpenApi(s: unknown, depth = 0): unknown {
  if (!isRecord(s) || depth > 64) return s;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(s)) {
    const v = s[key];
    switch (key) {
      case "type":
        out.type = typeof v === "string" ? (v === "TYPE_UNSPECIFIED" ? undefined : v.toLowerCase()) : v;
        if (out.type === undefined) delete out.type;
        break;
      case "nullable":
      case "propertyOrdering":
        break;
      case "example":
        out.examples = [v];
        break;
      case "properties":
        if (isRecord(v)) {
          const props: Record<string, unknown> = {};
          for (const name of Object.keys(v)) props[name] = schemaFromOpenApi(v[name], depth + 1);
          out.properties = props;
        } else out.properties = v;
        break;
      case "items":
        out.items = schemaFromOpenApi(v, depth + 1);
        break;
      case "anyOf":
        out.anyOf = Array.isArray(v) ? v.map((x) => schemaFromOpenApi(x, depth + 1)) : v;
        break;
      default:
        out[key] = v;
    }
  }
  if (s.nullable === true) {
    if (typeof out.type === "string") out.type = [out.type, "null"];
    else if (Array.isArray(out.anyOf)) out.anyOf = [...(out.anyOf as unknown[]), { type: "null" }];
  }
  return out;
}
