import { isRecord } from "../errors.js";
import type { Fidelity } from "../unsupported.js";

/**
 * JSON Schema → Gemini's `Schema`, an OpenAPI 3.0 subset. Gemini rejects keywords outside the
 * subset, so they are rewritten where the meaning survives and removed (with one warning per
 * schema naming them) where it does not:
 *
 *   type: ["string","null"]   → type: "string", nullable: true   (several types → anyOf)
 *   const: "x"                → enum: ["x"]
 *   oneOf                     → anyOf (exclusivity lost)
 *   allOf                     → merged into the parent
 *   $ref to #/$defs, #/definitions → inlined (a recursive $ref is unsupported)
 *   format                    → kept only where Gemini knows it (date-time, enum, float, double, int32, int64)
 *   additionalProperties, patternProperties, not, if/then/else, exclusive bounds, … → removed
 *   $schema, $id, $comment, examples, readOnly, … (annotations) → removed without a warning
 */

const KEEP: ReadonlySet<string> = new Set([
  "type",
  "title",
  "description",
  "nullable",
  "enum",
  "maxItems",
  "minItems",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "example",
  "propertyOrdering",
  "default",
  "minimum",
  "maximum",
]);
const QUIET: ReadonlySet<string> = new Set([
  "$schema",
  "$id",
  "$comment",
  "examples",
  "readOnly",
  "writeOnly",
  "deprecated",
  "$defs",
  "definitions",
  "strict",
]);
const FORMATS: ReadonlySet<string> = new Set(["date-time", "enum", "float", "double", "int32", "int64"]);
const MAX_DEPTH = 64;

class Sanitizer {
  readonly removed = new Set<string>();
  private readonly expanding: string[] = [];
  recursive = false;

  constructor(private readonly root: Record<string, unknown>) {}

  node(s: unknown, depth: number): Record<string, unknown> {
    if (!isRecord(s) || depth > MAX_DEPTH) return {};
    if (typeof s.$ref === "string") return this.ref(s.$ref, depth);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(s)) {
      const v = s[key];
      if (KEEP.has(key)) out[key] = v;
      else if (key === "properties" && isRecord(v)) {
        const props: Record<string, unknown> = {};
        for (const name of Object.keys(v)) props[name] = this.node(v[name], depth + 1);
        out.properties = props;
      } else if (key === "required" && Array.isArray(v)) out.required = v;
      else if (key === "items") {
        if (Array.isArray(v)) {
          this.removed.add("items (tuple)");
          if (v.length > 0) out.items = this.node(v[0], depth + 1);
        } else out.items = this.node(v, depth + 1);
      } else if ((key === "anyOf" || key === "oneOf") && Array.isArray(v)) {
        if (key === "oneOf") this.removed.add("oneOf (as anyOf)");
        out.anyOf = v.map((x) => this.node(x, depth + 1));
      } else if (key === "allOf" && Array.isArray(v)) {
        this.removed.add("allOf (merged)");
        for (const part of v) merge(out, this.node(part, depth + 1));
      } else if (key === "const") {
        if (typeof v === "string") out.enum = [v];
        else this.removed.add("const");
      } else if (key === "format") {
        if (typeof v === "string" && FORMATS.has(v)) out.format = v;
        else this.removed.add(`format ${String(v)}`);
      } else if (!QUIET.has(key)) this.removed.add(key);
    }
    this.fixType(out);
    this.fixEnum(out);
    if (Array.isArray(out.required) && isRecord(out.properties)) {
      const props = out.properties;
      const req = (out.required as unknown[]).filter((r): r is string => typeof r === "string" && r in props);
      if (req.length !== (out.required as unknown[]).length) this.removed.add("required entries without a property");
      out.required = req;
    }
    if (isRecord(out.properties) && Object.keys(out.properties).length === 0) delete out.properties;
    return out;
  }

  private ref(ref: string, depth: number): Record<string, unknown> {
    const target = resolve(this.root, ref);
    if (target === undefined) {
      this.removed.add(`$ref ${ref}`);
      return {};
    }
    if (this.expanding.includes(ref)) {
      this.recursive = true;
      return { type: "object" };
    }
    this.expanding.push(ref);
    const out = this.node(target, depth + 1);
    this.expanding.pop();
    return out;
  }

  private fixType(out: Record<string, unknown>): void {
    const t = out.type;
    if (!Array.isArray(t)) return;
    const types = (t as unknown[]).filter((x) => x !== "null");
    if (types.length < t.length) out.nullable = true;
    if (types.length === 1) out.type = types[0];
    else {
      delete out.type;
      if (types.length > 1) out.anyOf = types.map((x) => ({ type: x }));
    }
  }

  /** Gemini enums are strings of a string schema. */
  private fixEnum(out: Record<string, unknown>): void {
    const e = out.enum;
    if (!Array.isArray(e)) return;
    const strings = e.filter((x) => x !== null);
    if (strings.every((x) => typeof x === "string")) {
      out.enum = strings;
      if (strings.length < e.length) out.nullable = true;
      out.type ??= "string";
    } else {
      delete out.enum;
      this.removed.add("non-string enum");
    }
  }
}

function merge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const key of Object.keys(from)) {
    if (key === "properties" && isRecord(into.properties) && isRecord(from.properties))
      into.properties = { ...into.properties, ...from.properties };
    else if (key === "required" && Array.isArray(into.required) && Array.isArray(from.required))
      into.required = [...(into.required as unknown[]), ...(from.required as unknown[])];
    else if (!(key in into)) into[key] = from[key];
  }
}

function resolve(root: Record<string, unknown>, ref: string): unknown {
  let defs: unknown;
  let name: string;
  if (ref.startsWith("#/$defs/")) {
    defs = root.$defs;
    name = ref.slice(8);
  } else if (ref.startsWith("#/definitions/")) {
    defs = root.definitions;
    name = ref.slice(14);
  } else return undefined;
  return isRecord(defs) ? defs[name] : undefined;
}

/**
 * Rewrites `schema` into Gemini's subset. Removed keywords become one warning on `field`; a
 * recursive $ref (not expressible without refs) is an unsupported field.
 */
export function toGeminiSchema(schema: Record<string, unknown>, field: string, fx: Fidelity): Record<string, unknown> {
  const s = new Sanitizer(schema);
  const out = s.node(schema, 0);
  if (s.recursive) fx.unsupported(field, "recursive $ref cannot be expressed in Gemini's schema", "cut at the recursion");
  if (s.removed.size > 0) fx.note(field, `removed ${[...s.removed].join(", ")} (outside Gemini's schema subset)`);
  return out;
}
