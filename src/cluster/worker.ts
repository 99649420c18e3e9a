import { hostname } from "node:os";
import type { Config } from "../config/schema.js";
import type { ConfigSource } from "../control/config-source.js";
import { ClusterTransport } from "../state/cluster-transport.js";
import { ReplicatedStore } from "../state/replicated-store.js";
import type { StateStore } from "../state/state-store.js";
import type { Logger } from "../telemetry/logger.js";
import { splitLimits } from "./split-limits.js";

/**
 * What makes a process one worker of `switchyard start --workers N` (cluster/primary.ts forks it):
 * it runs the gateway exactly as `start` does, with these differences, all decided here:
 *
 *   config      without `shared`: every limit divided by N (split-limits.ts); with `shared.instance`: `<instance>-<slot>`
 *   state       without `shared`: a ReplicatedStore over the primary (ClusterTransport); with it: Redis, like another machine
 *   logs        every line carries `worker` (its slot, 1…N, kept across restarts)
 *   banner      not printed: the primary prints one once every worker listens
 *   signals     SIGINT ignored (a terminal sends it to the whole group: the primary decides); drain
 *               and reload come from the primary as messages; SIGTERM, SIGHUP still work on a worker alone
 */

/** Environment variables the primary sets on each worker it forks. */
export const WORKER_ENV = { slot: "SWITCHYARD_WORKER", count: "SWITCHYARD_WORKERS" } as const;

/** The workers' control messages (the `sy` namespace they share with the state messages). */
export type ControlMessage = { sy: "drain" } | { sy: "reload" } | { sy: "listening"; url: string; admin_url: string | undefined };

/** This worker's place among the others. */
export interface WorkerInfo {
  /** 1…N, the same for a worker that replaces one that died. */
  readonly slot: number;
  /** How many workers the primary runs. */
  readonly count: number;
}

/** This process's slot and count, as the primary set them. */
export function workerInfo(env: NodeJS.ProcessEnv = process.env): WorkerInfo {
  const slot = Number(env[WORKER_ENV.slot] ?? 1);
  const count = Number(env[WORKER_ENV.count] ?? 1);
  return { slot: Number.isInteger(slot) && slot > 0 ? slot : 1, count: Number.isInteger(count) && count > 0 ? count : 1 };
}

/** The config a worker runs: the limits split by N when the workers share no Redis; a distinct instance name when they do. */
export function workerConfig(config: Config, w: WorkerInfo): Config {
  const shared = config.shared;
  if (shared === undefined) return splitLimits(config, w.count);
  if (shared.instance === undefined) return config; // the default, hostname-pid, is distinct already
  return Object.freeze({ ...config, shared: Object.freeze({ ...shared, instance: `${shared.instance}-${w.slot}` }) });
}

/** The config source a worker reads (at start and at each reload): the file's config, made a worker's. */
export function workerSource(source: ConfigSource, w: WorkerInfo): ConfigSource {
  return {
    name: source.name,
    file: source.file,
    async load() {
      const config = workerConfig(await source.load(), w);
      // Targets the split copied are new objects: their response mappers are loaded for them.
      await source.prepare(config);
      return config;
    },
    prepare: (config) => source.prepare(config),
    watch: source.watch?.bind(source),
  };
}

/**
 * The state store of a worker without Redis: the policies' state replicated through the primary.
 * Undefined with `shared` (createGateway then uses Redis, like on separate machines).
 */
export function workerStore(config: Config, log: Logger): StateStore | undefined {
  if (config.shared !== undefined) return undefined;
  const transport = new ClusterTransport(`${hostname()}-${process.pid}`);
  return new ReplicatedStore(transport, {
    kind: "cluster",
    onHealth: (up) =>
      up
        ? log.info({}, "shared state: the primary answers again; resynchronised")
        : log.warn({}, "shared state: the link to the primary closed; serving on this worker's own state"),
    onError: (err, key) => log.warn({ err: err.message, key }, "shared state: a change or resync from the primary failed"),
  });
}

/** Tells the primary this worker listens (it prints the one banner once all do). */
export function announceListening(url: string, adminUrl: string | undefined): void {
  sendToPrimary({ sy: "listening", url, admin_url: adminUrl });
}

/** Runs `drain` and `reload` when the primary asks; SIGINT is left to the primary. */
export function onPrimaryControl(handlers: { drain(): void; reload(): void }): void {
  process.on("SIGINT", ignore);
  process.on("message", (m: unknown) => {
    const sy = typeof m === "object" && m !== null ? (m as { sy?: unknown }).sy : undefined;
    if (sy === "drain") handlers.drain();
    else if (sy === "reload") handlers.reload();
  });
}

function sendToPrimary(m: ControlMessage): void {
  if (process.send !== undefined && process.connected) process.send(m, undefined, undefined, ignore);
}

function ignore(): void {}
