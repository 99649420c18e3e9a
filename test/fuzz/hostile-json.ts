/**
 * fast-check generators of hostile JSON: a valid template with any field dropped, or its value
 * swapped for one of the wrong type (null, numbers out of range, strings, arrays, objects,
 * `__proto__`), at every depth. What a careless or malicious client or provider sends, close
 * enough to the real shape that it gets past the first checks.
 */
import fc from "fast-check";

/** A value of any JSON type, small: what replaces a field. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1e21, -0.5, Number.MAX_SAFE_INTEGER, "", "x", [], {}, [null], { __proto__: null }),
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true}}') as unknown),
);

/** Marks a field to leave out. */
const DROP = Symbol("drop");

/**
 * Variants of `template`: each field of an object is kept (mutated) or dropped, now and then a
 * stray one is added; arrays repeat their first element's variants; primitives stay or turn into
 * a wrong value. `weight` is how much likelier a node stays in shape than it is dropped or
 * swapped whole: the higher, the closer to the template.
 */
export function mutated(template: unknown, weight = 6): fc.Arbitrary<unknown> {
  let shaped: fc.Arbitrary<unknown>;
  if (Array.isArray(template)) {
    const first: unknown = template[0];
    shaped = first === undefined ? fc.constant([]) : fc.array(mutated(first, weight), { minLength: weight > 10 ? 1 : 0, maxLength: 3 });
  } else if (template !== null && typeof template === "object") {
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(template))
      model[k] = fc.oneof({ weight, arbitrary: mutated(v, weight) }, { weight: 1, arbitrary: fc.constant(DROP) });
    shaped = fc
      .tuple(
        fc.record(model),
        fc.oneof(
          { weight, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 6 }), wrongValue) },
        ),
      )
      .map(([rec, stray]) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(rec)) if (v !== DROP) out[k] = v;
        if (stray !== undefined) out[stray[0]] = stray[1];
        return out;
      });
  } else shaped = fc.constant(template);
  return fc.oneof({ weight, arbitrary: shaped }, { weight: 1, arbitrary: wrongValue });
}

/** Text that is not JSON, or JSON cut short: what a broken provider or client sends as a body. */
export const notJson: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("", "{", "[", '{"a":', "nul", "[DONE", '{"a":1}}', "\u0000", "\uFEFF{}", "{'a':1}", "NaN", "1e999999"),
  fc.jsonValue({ maxDepth: 3 }).chain((v) => {
    const s = JSON.stringify(v);
    return fc.integer({ min: 0, max: Math.max(0, s.length - 1) }).map((n) => s.slice(0, n));
  }),
);
