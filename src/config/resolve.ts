import { existsSync } from "node:fs";
import { ConfigError } from "../errors.js";
import type { Config } from "./schema.js";
import { loadConfigFile } from "./load.js";
import { configFromEnv, hasEnvConfig } from "./env.js";

export const DEFAULT_CONFIG_FILE = "switchyard.yaml";

/**
 * Where the config comes from, in order: --config FILE; ./switchyard.yaml; the SWITCHYARD_*
 * environment shortcut. None of them → a ConfigError that says how to give one.
 */
export function resolveConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { config: Config; source: string; file: boolean } {
  if (file !== undefined) return { config: loadConfigFile(file, env), source: file, file: true };
  if (existsSync(DEFAULT_CONFIG_FILE)) return { config: loadConfigFile(DEFAULT_CONFIG_FILE, env), source: DEFAULT_CONFIG_FILE, file: true };
  if (hasEnvConfig(env)) return { config: configFromEnv(env), source: "environment", file: false };
  throw new ConfigError(
    [
      `no config: pass --config FILE, create ./${DEFAULT_CONFIG_FILE}, set SWITCHYARD_PROVIDER and SWITCHYARD_API_KEYS (or LOAD_BALANCER_CLAUDE_API_KEYS / LOAD_BALANCER_GEMINI_API_KEYS), or run "switchyard start --demo"`,
    ],
    "command line",
  );
}
