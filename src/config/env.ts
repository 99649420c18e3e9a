import { ConfigError } from "../errors.js";
import { maskSecret } from "./mask.js";
import type { Config } from "./schema.js";
import { parseConfig } from "./load.js";
import { PROVIDERS, PROVIDER_NAMES, type ProviderName } from "../providers/registry.js";

/** True when the environment asks for the zero-file setup. */
export function hasEnvConfig(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.SWITCHYARD_PROVIDER);
}

/**
 * The zero-file setup: one provider, many keys.
 *   SWITCHYARD_PROVIDER=openai SWITCHYARD_API_KEYS=sk-a:3,sk-b:1 [SWITCHYARD_BASE_URL=…]
 *   [SWITCHYARD_STRATEGY=weighted] [SWITCHYARD_MODELS=gpt-4o,gpt-4o-mini] [SWITCHYARD_SERVICE=quotes]
 *   [SWITCHYARD_HOST=127.0.0.1] [SWITCHYARD_PORT=8080]
 */
export function configFromEnv(env: NodeJS.ProcessEnv): Config {
  const problems: string[] = [];
  const provider = env.SWITCHYARD_PROVIDER ?? "";
  const adapter = Object.hasOwn(PROVIDERS, provider) ? PROVIDERS[provider as ProviderName] : undefined;
  if (adapter === undefined) problems.push(`SWITCHYARD_PROVIDER: must be one of ${PROVIDER_NAMES.join(", ")} (got "${provider}")`);
  const baseUrl = env.SWITCHYARD_BASE_URL || adapter?.baseUrl;
  if (adapter !== undefined && !baseUrl)
    problems.push(`SWITCHYARD_BASE_URL: is required for provider ${provider} (like ${adapter.baseUrlExample})`);
  const keys = parseKeys(env.SWITCHYARD_API_KEYS ?? "", problems);
  const port = env.SWITCHYARD_PORT === undefined ? undefined : Number(env.SWITCHYARD_PORT);
  if (port !== undefined && !Number.isInteger(port)) problems.push(`SWITCHYARD_PORT: must be a port number (got "${env.SWITCHYARD_PORT}")`);
  // An unknown provider is always among the problems; the second test only narrows `adapter`.
  if (problems.length > 0 || adapter === undefined) throw new ConfigError(problems, "environment");

  const surface = adapter.wire;
  const models = (env.SWITCHYARD_MODELS ?? "*")
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  const route: Record<string, unknown> = {
    name: "default",
    surface,
    strategy: env.SWITCHYARD_STRATEGY || "weighted",
    targets: (keys.length > 0 ? keys : [{ key: undefined, weight: 1 }]).map((k, i) => ({
      id: `${provider}-key-${i + 1}`,
      provider,
      base_url: baseUrl,
      key: k.key,
      weight: k.weight,
    })),
  };
  if (surface === "rest") route.service = env.SWITCHYARD_SERVICE || "api";
  else route.models = models;
  const server: Record<string, unknown> = {};
  if (env.SWITCHYARD_HOST) server.host = env.SWITCHYARD_HOST;
  if (port !== undefined) server.port = port;
  try {
    return parseConfig({ server, routes: [route] }, "environment");
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.problems.map(toEnvName), "environment");
    throw err;
  }
}

/** `key1:1,key2:3` → keys with weights; a key may itself contain ':' (only a numeric suffix is a weight). */
function parseKeys(spec: string, problems: string[]): { key: string; weight: number }[] {
  const out: { key: string; weight: number }[] = [];
  spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .forEach((item, i) => {
      const m = /^(.*):([^:]*)$/.exec(item);
      let key = item;
      let weight = 1;
      const head = m?.[1];
      const suffix = m?.[2];
      if (head !== undefined && suffix !== undefined && /^[\d.]*$/.test(suffix)) {
        key = head;
        weight = Number(suffix);
        if (!(weight > 0))
          problems.push(`SWITCHYARD_API_KEYS: key ${i + 1} (${maskSecret(key)}): weight must be a number > 0 (got "${suffix}")`);
      }
      if (!key) problems.push(`SWITCHYARD_API_KEYS: key ${i + 1} is empty`);
      out.push({ key, weight });
    });
  return out;
}

function toEnvName(problem: string): string {
  return problem
    .replace(/^routes\[0\]\.strategy/, "SWITCHYARD_STRATEGY")
    .replace(/^routes\[0\]\.targets\[\d+\]\.base_url/, "SWITCHYARD_BASE_URL")
    .replace(/^routes\[0\]\.models\[\d+\]/, "SWITCHYARD_MODELS")
    .replace(/^routes\[0\]\.service/, "SWITCHYARD_SERVICE")
    .replace(/^server\.port/, "SWITCHYARD_PORT")
    .replace(/^server\.host/, "SWITCHYARD_HOST");
}
