import { ConfigError } from "../errors.js";
import { maskSecret } from "./mask.js";
import type { Config } from "./schema.js";
import { parseConfig } from "./load.js";
import { PROVIDERS, PROVIDER_NAMES, type ProviderName } from "../providers/registry.js";

/** True when the environment asks for the zero-file setup (SWITCHYARD_PROVIDER, or the LOAD_BALANCER_* keys). */
export function hasEnvConfig(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.SWITCHYARD_PROVIDER) || loadBalancerWanted(env);
}

/** What each route's config fields are called in the environment, for errors (by route index). */
type EnvNames = Partial<Record<"strategy" | "base_url" | "models" | "service", string>>;

/**
 * The zero-file setup. Two shortcuts, usable together:
 *
 * One provider, many keys, on the plain paths (/v1/chat/completions…):
 *   SWITCHYARD_PROVIDER=openai SWITCHYARD_API_KEYS=sk-a:3,sk-b:1 [SWITCHYARD_BASE_URL=…]
 *   [SWITCHYARD_STRATEGY=weighted] [SWITCHYARD_MODELS=gpt-4o,gpt-4o-mini] [SWITCHYARD_SERVICE=quotes]
 *
 * The multi-key Claude/Gemini balancer's variables, on its paths (/{uuid}/lb/v1/messages,
 * /{uuid}/lb/v1beta/models/<model>:generateContent, any uuid); see loadBalancerRoutes.
 *
 * Both: [SWITCHYARD_HOST=127.0.0.1] [SWITCHYARD_PORT=8080]
 */
export function configFromEnv(env: NodeJS.ProcessEnv): Config {
  const problems: string[] = [];
  const routes: Record<string, unknown>[] = [];
  const names: EnvNames[] = [];
  if (env.SWITCHYARD_PROVIDER || !loadBalancerWanted(env)) switchyardRoute(env, problems, routes, names);
  if (loadBalancerWanted(env)) loadBalancerRoutes(env, problems, routes, names);
  const port = env.SWITCHYARD_PORT === undefined ? undefined : Number(env.SWITCHYARD_PORT);
  if (port !== undefined && !Number.isInteger(port)) problems.push(`SWITCHYARD_PORT: must be a port number (got "${env.SWITCHYARD_PORT}")`);
  if (problems.length > 0) throw new ConfigError(problems, "environment");

  const server: Record<string, unknown> = {};
  if (env.SWITCHYARD_HOST) server.host = env.SWITCHYARD_HOST;
  if (port !== undefined) server.port = port;
  try {
    return parseConfig({ server, routes }, "environment");
  } catch (err) {
    if (err instanceof ConfigError)
      throw new ConfigError(
        err.problems.map((p) => toEnvName(p, names)),
        "environment",
      );
    throw err;
  }
}

/** The SWITCHYARD_PROVIDER route: one provider's keys on the plain paths. */
function switchyardRoute(env: NodeJS.ProcessEnv, problems: string[], routes: Record<string, unknown>[], names: EnvNames[]): void {
  const provider = env.SWITCHYARD_PROVIDER ?? "";
  const adapter = Object.hasOwn(PROVIDERS, provider) ? PROVIDERS[provider as ProviderName] : undefined;
  if (adapter === undefined) problems.push(`SWITCHYARD_PROVIDER: must be one of ${PROVIDER_NAMES.join(", ")} (got "${provider}")`);
  const baseUrl = env.SWITCHYARD_BASE_URL || adapter?.baseUrl;
  if (adapter !== undefined && !baseUrl)
    problems.push(`SWITCHYARD_BASE_URL: is required for provider ${provider} (like ${adapter.baseUrlExample})`);
  const keys = parseKeys("SWITCHYARD_API_KEYS", env.SWITCHYARD_API_KEYS ?? "", problems);
  if (adapter === undefined) return;

  const surface = adapter.wire;
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
  else route.models = splitList(env.SWITCHYARD_MODELS ?? "*");
  routes.push(route);
  names.push({
    strategy: "SWITCHYARD_STRATEGY",
    base_url: "SWITCHYARD_BASE_URL",
    models: "SWITCHYARD_MODELS",
    service: "SWITCHYARD_SERVICE",
  });
}

/** The balancer's two providers, by the word its variables use. */
const LB_PROVIDERS = {
  CLAUDE: { provider: "anthropic", surface: "anthropic", route: "lb-claude" },
  GEMINI: { provider: "gemini", surface: "gemini", route: "lb-gemini" },
} as const;
type LbProvider = keyof typeof LB_PROVIDERS;

const LB_KEY_VARS = ["LOAD_BALANCER_API_KEYS", "LOAD_BALANCER_CLAUDE_API_KEYS", "LOAD_BALANCER_GEMINI_API_KEYS"] as const;

/** LOAD_BALANCER_ENABLED=false turns the LOAD_BALANCER_* shortcut off; otherwise any of its key lists (or ENABLED=true) turns it on. */
function loadBalancerWanted(env: NodeJS.ProcessEnv): boolean {
  if (parseBool(env.LOAD_BALANCER_ENABLED) === false) return false;
  // Any other value of LOAD_BALANCER_ENABLED (true, or a typo the config then reports) turns it on.
  return Boolean(env.LOAD_BALANCER_ENABLED) || LB_KEY_VARS.some((v) => Boolean(env[v]));
}

/**
 * The multi-key Claude/Gemini balancer's variables: one route per provider with keys, both under
 * one prefix (any uuid matches `{uuid}`), so one process serves Claude and Gemini keys:
 *
 *   LOAD_BALANCER_CLAUDE_API_KEYS=sk-ant-a:1,sk-ant-b:2  → route lb-claude: POST /{uuid}/lb/v1/messages
 *   LOAD_BALANCER_GEMINI_API_KEYS=AIza-a,AIza-b:3        → route lb-gemini: POST /{uuid}/lb/v1beta/models/<model>:generateContent
 *   LOAD_BALANCER_API_KEYS=key:weight,…                   the balancer's own variable: the keys of
 *                                                         LOAD_BALANCER_PROVIDER (claude | gemini, default claude)
 *   LOAD_BALANCER_STRATEGY=round-robin | time-window | weighted (any Switchyard strategy or alias; default round-robin)
 *   LOAD_BALANCER_WINDOW_SIZE=5                           time-window's window in minutes
 *   LOAD_BALANCER_ENABLED=true | false                    false ignores every LOAD_BALANCER_* variable
 *   [LOAD_BALANCER_PREFIX=/{uuid}/lb] [LOAD_BALANCER_CLAUDE_BASE_URL=…] [LOAD_BALANCER_GEMINI_BASE_URL=…]
 *
 * Every model goes through ("*"); the status, config and reset endpoints are under the same prefix.
 */
function loadBalancerRoutes(env: NodeJS.ProcessEnv, problems: string[], routes: Record<string, unknown>[], names: EnvNames[]): void {
  if (env.LOAD_BALANCER_ENABLED && parseBool(env.LOAD_BALANCER_ENABLED) === undefined)
    problems.push(`LOAD_BALANCER_ENABLED: must be true or false (got "${env.LOAD_BALANCER_ENABLED}")`);
  const generic = (env.LOAD_BALANCER_PROVIDER ?? "claude").trim().toUpperCase();
  const genericProvider: LbProvider | undefined =
    generic === "CLAUDE" || generic === "ANTHROPIC" ? "CLAUDE" : generic === "GEMINI" ? "GEMINI" : undefined;
  if (genericProvider === undefined)
    problems.push(`LOAD_BALANCER_PROVIDER: must be claude or gemini (got "${env.LOAD_BALANCER_PROVIDER ?? ""}")`);
  const strategy = env.LOAD_BALANCER_STRATEGY || "round-robin";
  let windowMinutes: number | undefined;
  if (env.LOAD_BALANCER_WINDOW_SIZE !== undefined) {
    windowMinutes = Number(env.LOAD_BALANCER_WINDOW_SIZE);
    if (!(windowMinutes > 0) || env.LOAD_BALANCER_WINDOW_SIZE.trim() === "")
      problems.push(`LOAD_BALANCER_WINDOW_SIZE: must be a number of minutes > 0 (got "${env.LOAD_BALANCER_WINDOW_SIZE}")`);
  }
  const prefix = env.LOAD_BALANCER_PREFIX || "/{uuid}/lb";
  let any = false;
  for (const p of Object.keys(LB_PROVIDERS) as LbProvider[]) {
    const own = `LOAD_BALANCER_${p}_API_KEYS`;
    let keysVar: string = own;
    if (p === genericProvider && env.LOAD_BALANCER_API_KEYS) {
      if (env[own]) {
        problems.push(
          `LOAD_BALANCER_API_KEYS: holds ${p.toLowerCase()} keys (LOAD_BALANCER_PROVIDER), and so does ${own}: set one of them`,
        );
        continue;
      }
      keysVar = "LOAD_BALANCER_API_KEYS";
    }
    const keys = parseKeys(keysVar, env[keysVar] ?? "", problems);
    if (keys.length === 0) continue;
    any = true;
    const { provider, surface, route: name } = LB_PROVIDERS[p];
    const baseUrlVar = `LOAD_BALANCER_${p}_BASE_URL`;
    const route: Record<string, unknown> = {
      name,
      surface,
      prefix,
      models: ["*"],
      strategy,
      targets: keys.map((k, i) => ({
        id: `${p.toLowerCase()}-key-${i + 1}`,
        provider,
        key: k.key,
        weight: k.weight,
        ...(env[baseUrlVar] ? { base_url: env[baseUrlVar] } : {}),
      })),
    };
    if (windowMinutes !== undefined) route.strategy_options = { "time-window": { window_minutes: windowMinutes } };
    routes.push(route);
    names.push({ strategy: "LOAD_BALANCER_STRATEGY", base_url: baseUrlVar });
  }
  if (!any && problems.length === 0)
    problems.push(`LOAD_BALANCER_ENABLED: is on but no keys are set (${LB_KEY_VARS.join(", ")}: key:weight,…)`);
}

/** true / false (also 1 / 0, yes / no), undefined when unset or anything else. */
function parseBool(v: string | undefined): boolean | undefined {
  const s = v?.trim().toLowerCase();
  if (s === "true" || s === "1" || s === "yes") return true;
  if (s === "false" || s === "0" || s === "no") return false;
  return undefined;
}

function splitList(spec: string): string[] {
  return spec
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
}

/** `key1:1,key2:3` → keys with weights; a key may itself contain ':' (only a numeric suffix is a weight). */
function parseKeys(variable: string, spec: string, problems: string[]): { key: string; weight: number }[] {
  const out: { key: string; weight: number }[] = [];
  splitList(spec).forEach((item, i) => {
    const m = /^(.*):([^:]*)$/.exec(item);
    let key = item;
    let weight = 1;
    const head = m?.[1];
    const suffix = m?.[2];
    if (head !== undefined && suffix !== undefined && /^[\d.]*$/.test(suffix)) {
      key = head;
      weight = Number(suffix);
      if (!(weight > 0)) problems.push(`${variable}: key ${i + 1} (${maskSecret(key)}): weight must be a number > 0 (got "${suffix}")`);
    }
    if (!key) problems.push(`${variable}: key ${i + 1} is empty`);
    out.push({ key, weight });
  });
  return out;
}

/** A schema error's path (`routes[1].strategy`) as the variable that set it (`LOAD_BALANCER_STRATEGY`). */
function toEnvName(problem: string, names: readonly EnvNames[]): string {
  const m = /^routes\[(\d+)\]\.(strategy|targets\[\d+\]\.base_url|models\[\d+\]|service|prefix)(?=:)/.exec(problem);
  if (m !== null) {
    const route = names[Number(m[1])] ?? {};
    const field = (m[2] as string).replace(/^targets\[\d+\]\./, "").replace(/\[\d+\]$/, "");
    const name = field === "prefix" ? "LOAD_BALANCER_PREFIX" : route[field as keyof EnvNames];
    if (name !== undefined) return name + problem.slice(m[0].length);
  }
  return problem.replace(/^server\.port/, "SWITCHYARD_PORT").replace(/^server\.host/, "SWITCHYARD_HOST");
}
