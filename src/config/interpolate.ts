/**
 * `${VAR}` and `${VAR:-default}` in string values, applied after YAML parsing (so a value can
 * never inject YAML structure). `$${` writes a literal `${`. A value that is exactly one
 * reference and reads as a number or boolean becomes one (`port: ${PORT}`).
 */
const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

export function interpolate(value: unknown, env: NodeJS.ProcessEnv, problems: string[], path = ""): unknown {
  if (typeof value === "string") return interpolateString(value, env, problems, path);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, problems, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const iv = interpolate(v, env, problems, path ? `${path}.${k}` : k);
      // Assigned, `__proto__` would become the prototype, its fields read as the config's own past
      // the strict schema: kept as an own field instead, which the schema refuses by name.
      if (k === "__proto__") Object.defineProperty(out, k, { value: iv, enumerable: true, writable: true, configurable: true });
      else out[k] = iv;
    }
    return out;
  }
  return value;
}

function interpolateString(s: string, env: NodeJS.ProcessEnv, problems: string[], path: string): unknown {
  if (!s.includes("${")) return s;
  const out = s.replace(REF, (m, name: string | undefined, def: string | undefined) => {
    if (name === undefined) return "${";
    const v = env[name];
    if (v !== undefined && v !== "") return v;
    if (def !== undefined) return def;
    problems.push(`${path || "(root)"}: environment variable ${name} is not set (write \${${name}:-default} for a default)`);
    return "";
  });
  if (WHOLE.test(s)) {
    if (/^-?\d+(\.\d+)?$/.test(out)) return Number(out);
    if (out === "true" || out === "false") return out === "true";
  }
  return out;
}
