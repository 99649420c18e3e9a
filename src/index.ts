/**
 * Switchyard as a library: the same engine the server runs, in-process.
 *
 *   import { createGateway } from "switchyard";
 *   const gw = createGateway({ routes: [{ name: "quotes", surface: "rest", service: "quotes", targets: [...] }] });
 *   const res = await gw.request("quotes", { path: "/v1/quote?symbol=IBM" });
 */
import { Gateway } from "./engine/engine.js";
import { configSchema, type Config, type ConfigInput } from "./config/schema.js";
import { parseConfig } from "./config/load.js";
import { SwitchyardServer } from "./server/server.js";
import { createLogger, logAttemptFailures, logPolicyEvents, logRequests, type Logger } from "./telemetry/logger.js";

export { Gateway } from "./engine/engine.js";
export { SwitchyardServer } from "./server/server.js";
export { GatewayError, ConfigError, ERRORS, type ErrorCode } from "./errors.js";
export { loadConfigFile, parseConfig, parseConfigText } from "./config/load.js";
export { configFromEnv } from "./config/env.js";
export type { Config, ConfigInput, RouteConfig, TargetConfig } from "./config/schema.js";
export type { InProcessRequest, InProcessResponse } from "./pipeline/in-process.js";
export type { Strategy, StrategyFactory } from "./balancer/strategy.js";

/** Builds the engine from a config object (validated here unless it already was). */
export function createGateway(config: ConfigInput | Config): Gateway {
  const parsed = Object.isFrozen(config) ? (config as Config) : parseConfig(config, "createGateway");
  const gateway = new Gateway(parsed);
  gateway.start();
  return gateway;
}

/** Starts the HTTP server for a gateway; resolves once it listens. */
export async function startServer(gateway: Gateway, options: { port?: number; host?: string; logger?: Logger } = {}): Promise<SwitchyardServer> {
  const log = options.logger ?? createLogger(gateway.config.log.level);
  logRequests(gateway.events, log);
  logAttemptFailures(gateway.events, log);
  logPolicyEvents(gateway.events, log);
  const server = new SwitchyardServer(gateway, log);
  await server.listen(options.port ?? gateway.config.server.port, options.host ?? gateway.config.server.host);
  return server;
}

export { configSchema };
