import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { configSchema, type Config } from "./schema.js";
import { interpolate } from "./interpolate.js";

/** `routes[1].targets[0].weight` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || "(root)";
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = formatPath(issue.path);
    if (issue.code === "unrecognized_keys")
      return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    if (issue.code === "invalid_type" && issue.input === undefined) return `${where}: is required`;
    return `${where}: ${issue.message}`;
  });
}

/** Validate a plain object (already interpolated) against the schema; frozen result or ConfigError. */
export function parseConfig(raw: unknown, source: string): Config {
  // reportInput: an issue keeps the value it was about, so a field of the wrong type is not reported as missing.
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(formatIssues(result.error), source);
  return deepFreeze(result.data);
}

/**
 * Parse YAML text, interpolate ${VAR}s, validate. `configDir`, for a config read from a file:
 * the store's file defaults to `switchyard.db` there, and a relative store path is taken from there.
 */
export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env, configDir?: string): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0)
    throw new ConfigError(
      doc.errors.map((e) => `${source}: ${e.message.split("\n")[0]}`),
      source,
    );
  let js: unknown;
  try {
    js = doc.toJS();
  } catch (err) {
    // An alias to no anchor, or an alias bomb ("excessive alias count"): the file's fault, named like a syntax error.
    throw new ConfigError([`${source}: ${(err as Error).message}`], source);
  }
  const problems: string[] = [];
  const raw = interpolate(js, env, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  return parseConfig(configDir === undefined ? (raw ?? {}) : storeBeside(raw ?? {}, configDir), source);
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([code === "ENOENT" ? `${path}: file not found` : `${path}: cannot read (${code ?? String(err)})`], path);
  }
  return parseConfigText(text, path, env, dirname(path));
}

/** The store's file beside the config: `switchyard.db` by default, a relative path from the config's folder. */
function storeBeside(raw: unknown, dir: string): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const cfg = raw as Record<string, unknown>;
  const store = cfg["store"] ?? {};
  if (store === null || typeof store !== "object" || Array.isArray(store)) return raw;
  const path = (store as Record<string, unknown>)["path"];
  if (path === undefined) return { ...cfg, store: { ...store, path: join(dir, "switchyard.db") } };
  if (typeof path === "string" && path !== ":memory:" && path !== "" && !isAbsolute(path))
    return { ...cfg, store: { ...store, path: join(dir, path) } };
  return raw;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
