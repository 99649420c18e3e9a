/**
 * Switchyard as a library: the same engine the server runs, in-process.
 *
 *   import { createGateway } from "switchyard";
 *   const gw = createGateway({ routes: [{ name: "quotes", surface: "rest", service: "quotes", targets: [...] }] });
 *   const res = await gw.request("quotes", { path: "/v1/quote?symbol=IBM" });
 */
import { Gateway } from "./pipeline/gateway.js";
import type { EngineOptions } from "./engine/engine.js";
import { configSchema, type Config, type ConfigInput } from "./config/schema.js";
import { parseConfig } from "./config/load.js";
import { SwitchyardServer } from "./server/server.js";
import { createLogger, logAttemptFailures, logInternalErrors, logPolicyEvents, logRequests, type Logger } from "./telemetry/logger.js";
import { Observability } from "./telemetry/observability.js";
import { ControlPlane } from "./control/control-plane.js";
import { type ConfigSource, fixedSource, watchFile } from "./control/config-source.js";
import { adminEndpoints } from "./admin/admin-api.js";
import { eventsEndpoint } from "./admin/events-stream.js";
import { dashboardEndpoints } from "./admin/dashboard-endpoints.js";
import { openApiEndpoint } from "./admin/openapi.js";
import type { OperatorEndpoint } from "./core/operator-endpoint.js";
import { PersistedState, type PersistedStateOptions } from "./control/persisted-state.js";
import { installClientKeys } from "./front/authenticate.js";
import type { ClientKeyRegistry } from "./front/client-keys.js";
import { KeyStore } from "./front/key-store.js";
import { RedisKeyStore } from "./front/redis-key-store.js";
import { keysEndpoints } from "./admin/keys-api.js";
import { Budgets } from "./front/budgets.js";
import { ResponseCache } from "./cache/response-cache.js";
import { EmbeddingBatcher } from "./batch/embedding-batcher.js";
import { InboundLimits, type InboundLimitsOptions } from "./front/inbound-limits.js";
import { budgetsEndpoint } from "./admin/budgets-api.js";
import type { SharedConfig } from "./config/shared-schema.js";
import { ReplicatedStore, sharedStateOf } from "./state/replicated-store.js";
import { RedisTransport } from "./state/redis-transport.js";

/** Each gateway's client keys: createGateway installs them, startServer serves their admin API and closes their store. */
const clientKeys = new WeakMap<Gateway, ClientKeyRegistry>();

/**
 * The front door on a gateway (both fronts), in the order a request meets it: client keys (the
 * config's and those made through the admin API, kept in the store), budgets, inbound limits.
 */
function withClientKeys(gateway: Gateway, logger: Logger | undefined, limits: InboundLimitsOptions = {}): Gateway {
  // The logger is needed only if the store's file cannot be opened.
  const log = logger ?? { error: (obj: object, msg: string) => createLogger(gateway.config.log.level).error(obj, msg) };
  const local = KeyStore.open(gateway.config.store.path ?? ":memory:", log);
  // A shared gateway's API keys live in Redis (the local store is the copy it starts from).
  const shared = gateway.config.shared;
  const store =
    shared === undefined
      ? local
      : new RedisKeyStore({
          url: shared.redis.url,
          prefix: shared.redis.prefix,
          timeoutMs: shared.redis.timeout_ms,
          cache: local,
          log: logger ?? createLogger(gateway.config.log.level),
        });
  const keys = installClientKeys(gateway, store);
  if (store instanceof RedisKeyStore) store.onChange((stored) => keys.reload(stored));
  clientKeys.set(gateway, keys);
  // Then budgets (they read the client key and may send the request to a fallback route), then the
  // inbound limits of the route it will be served by: last, so a refusal by an earlier step takes no unit.
  Budgets.install(gateway);
  gateway.use(
    new InboundLimits(gateway, {
      keyLimits: (name) => keys.named(name)?.limits,
      log: logger ?? {
        warn: (obj: object, msg: string) => createLogger(gateway.config.log.level).warn(obj, msg),
        info: (obj: object, msg: string) => createLogger(gateway.config.log.level).info(obj, msg),
      },
      ...limits,
    }),
  );
  // Then the answers the gateway gives itself: the response cache (a hit is still a request of the key's).
  const cache = new ResponseCache(
    gateway,
    logger ?? {
      warn: (obj: object, msg: string) => createLogger(gateway.config.log.level).warn(obj, msg),
      info: (obj: object, msg: string) => createLogger(gateway.config.log.level).info(obj, msg),
    },
  );
  gateway.use(cache);
  // Last, the batching of embedding requests (only where a route batches): each member was admitted on its own first.
  EmbeddingBatcher.install(gateway);
  return gateway;
}

export { Gateway } from "./pipeline/gateway.js";
export { SwitchyardServer } from "./server/server.js";
export { Observability } from "./telemetry/observability.js";
export { ControlPlane, type ReloadResult } from "./control/control-plane.js";
export { type ConfigSource, fileSource, fixedSource } from "./control/config-source.js";
export { PersistedState, type PersistedStateOptions } from "./control/persisted-state.js";
export { GatewayError, ConfigError, ERRORS, type ErrorCode } from "./errors.js";
export { loadConfigFile, parseConfig, parseConfigText } from "./config/load.js";
export { configFromEnv } from "./config/env.js";
export type { Config, ConfigInput, RouteConfig, TargetConfig } from "./config/schema.js";
export type { InProcessRequest, InProcessResponse } from "./pipeline/library.js";
export type { AdmissionStep } from "./pipeline/admission.js";
export type { EngineOptions } from "./engine/engine.js";
export type { StateStore, StateCell, StateOp } from "./state/state-store.js";
export { MemoryStore } from "./state/memory-store.js";
export type { ProviderAdapter } from "./providers/adapter.js";
export { PROVIDERS } from "./providers/registry.js";
export type { Strategy, StrategyFactory } from "./balancer/strategy.js";

/**
 * Builds a gateway from a config object (validated here unless it already was). Its policy state
 * (open breakers, benched and disabled keys, health verdicts, slow-start ramps) and its totals
 * survive a restart in `config.store.path` (the CLI's `switchyard.db` beside the config file);
 * `:memory:`, the default for a config given as an object, keeps them in memory, and a file that
 * cannot be opened is logged and memory used. Closing the gateway (`server.shutdown()`) writes
 * the last of them. With `config.shared`, the policy state lives in memory and is shared with the
 * other instances through Redis instead (not in the file; the totals are then this process's own).
 * `options` may give the state store instead (then nothing is persisted here) and the upstream
 * dispatchers (default: undici Pools).
 */
export function createGateway(
  config: ConfigInput | Config,
  options: EngineOptions & { logger?: Logger; persist?: PersistedStateOptions; inboundLimits?: InboundLimitsOptions } = {},
): Gateway {
  const { logger, persist, inboundLimits, ...engine } = options;
  const parsed = Object.isFrozen(config) ? (config as Config) : parseConfig(config, "createGateway");
  if (engine.store !== undefined) {
    const gateway = withClientKeys(new Gateway(parsed, engine), logger, inboundLimits);
    gateway.start();
    return gateway;
  }
  if (parsed.shared !== undefined) {
    const gateway = withClientKeys(
      new Gateway(parsed, { ...engine, store: sharedStore(parsed.shared, parsed.log.level, logger) }),
      logger,
      inboundLimits,
    );
    gateway.start();
    return gateway;
  }
  const persisted = PersistedState.open(parsed, logger ?? createLogger(parsed.log.level), persist);
  const gateway = withClientKeys(new Gateway(parsed, { ...engine, store: persisted.store }), logger, inboundLimits);
  gateway.start();
  persisted.attach(gateway);
  return gateway;
}

/**
 * The policies' state of an instance of a shared gateway (config.shared): kept in memory and
 * replicated through Redis (not in the store's file). A lost link is logged once, and once when back.
 */
function sharedStore(shared: SharedConfig, level: Config["log"]["level"], logger: Logger | undefined): ReplicatedStore {
  const log = logger ?? createLogger(level);
  const transport = new RedisTransport({
    url: shared.redis.url,
    prefix: shared.redis.prefix,
    timeoutMs: shared.redis.timeout_ms,
    instance: shared.instance,
  });
  return new ReplicatedStore(transport, {
    kind: "redis",
    splitsLimits: true,
    onHealth: (up) =>
      up
        ? log.info({ instance: transport.instance }, "shared state: Redis answers again; resynchronising the state")
        : log.warn({ instance: transport.instance }, "shared state: Redis does not answer; serving on this instance's state"),
    onError: (err, key) =>
      log.warn({ err, instance: transport.instance, key }, "shared state: a state could not be read or resynchronised"),
  });
}

/**
 * Starts the HTTP server for a gateway, with what watches it (logs, metrics, usage ledger, alerts,
 * traces, as its config says); resolves once it listens. `server.shutdown()` stops them all.
 */
export async function startServer(
  gateway: Gateway,
  options: { port?: number; host?: string; logger?: Logger; source?: ConfigSource } = {},
): Promise<SwitchyardServer> {
  const log = options.logger ?? createLogger(gateway.config.log.level);
  if (gateway.config.log.access) logRequests(gateway.events, log);
  logAttemptFailures(gateway.events, log);
  logPolicyEvents(gateway.events, log);
  logInternalErrors(gateway.events, log);
  const observability = await Observability.start(gateway, log);
  observability.metrics?.watchBatching(() => EmbeddingBatcher.of(gateway));
  observability.metrics?.watchSharedState(() => sharedStateOf(gateway.engine.store));
  const limits = gateway.pipeline.step("inbound-limits");
  if (limits instanceof InboundLimits) observability.metrics?.watchSharedLimits(() => limits.sharedStatus());
  const control = new ControlPlane(gateway, options.source ?? fixedSource(gateway.config, "createGateway"), log);
  const keys = clientKeys.get(gateway);
  const budgets = Budgets.install(gateway);
  if (observability.ledger !== undefined)
    budgets.seed(observability.ledger.query({ from: budgets.monthStartsAt, group_by: "client_key,route,day" }).rows);
  const endpoints: OperatorEndpoint[] = [
    ...adminEndpoints(control),
    ...(keys === undefined ? [] : keysEndpoints(keys)),
    budgetsEndpoint(budgets),
    eventsEndpoint(gateway, { onError: (err) => log.error({ err }, "dashboard: building the live state failed") }),
    ...dashboardEndpoints(),
    ...observability.endpoints,
  ];
  endpoints.push(openApiEndpoint(() => endpoints));
  const server = new SwitchyardServer(gateway, log, endpoints);
  server.control = control;
  server.onClose(() => observability.close());
  if (keys !== undefined) server.onClose(() => Promise.resolve(keys.close()));
  const source = control.source;
  const stopDiscovery = source.watch?.(() => void control.reload("discovery"));
  if (stopDiscovery !== undefined) server.onClose(() => Promise.resolve(stopDiscovery()));
  if (gateway.config.reload.watch && source.file !== undefined) {
    const stop = watchFile(source.file, gateway.config.reload.debounce_ms, () => void control.reload("file watch"));
    server.onClose(() => Promise.resolve(stop()));
  }
  try {
    await server.listen(options.port ?? gateway.config.server.port, options.host ?? gateway.config.server.host);
  } catch (err) {
    await observability.close();
    throw err;
  }
  return server;
}

export { configSchema };
