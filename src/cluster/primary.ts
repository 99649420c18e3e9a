import cluster, { type Worker } from "node:cluster";
import { ClusterHub } from "../state/cluster-hub.js";
import type { StateMessage } from "../state/cluster-transport.js";
import type { Logger } from "../telemetry/logger.js";
import { type ControlMessage, WORKER_ENV } from "./worker.js";

/**
 * The primary of `switchyard start --workers N`: forks N workers (each runs the gateway as
 * `start` does; cluster shares the listening port), keeps them running and stops them. It runs no
 * gateway itself; it holds only the workers' shared state (state/cluster-hub.ts) when there is no Redis.
 *
 *   start      fork 1…N ──► each says "listening" ──► one banner (`onReady`)
 *              a worker that dies before all listen: the start failed → the others drained, exit 1
 *   running    a worker dies ──► forked again in its slot after a backoff (0.1 s doubling to 10 s;
 *              back to 0.1 s once a worker ran 10 s)
 *   SIGHUP     "reload" to every worker
 *   SIGTERM / SIGINT ──► "drain" to every worker (each drains as one process does, then exits)
 *              ──► exit 0 once all exited 0 (1 if one did not, or after drain timeout + 5 s)
 *              a second signal: workers killed, exit 1
 */
export interface PrimaryOptions {
  workers: number;
  log: Logger;
  /** The workers' drain timeout (server.drain_timeout_ms): the primary gives up 5 s after it. */
  drainTimeoutMs: number;
  /** Once every worker listens (the first time): the banner. */
  onReady(url: string, adminUrl: string | undefined): void;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A worker that ran this long died of something new: its slot's backoff starts over. */
const HEALTHY_RUN_MS = 10_000;
const DRAIN_GRACE_MS = 5000;

interface Slot {
  /** 1…N: the worker's id in logs, kept by its replacements. */
  readonly n: number;
  worker: Worker | undefined;
  startedAt: number;
  failures: number;
  restart: NodeJS.Timeout | undefined;
}

/** Runs the primary until its workers have stopped (it exits the process then). */
export function runPrimary(options: PrimaryOptions): void {
  const { workers: n, log } = options;
  const hub = new ClusterHub();
  const slots: Slot[] = Array.from({ length: n }, (_, i) => ({
    n: i + 1,
    worker: undefined,
    startedAt: 0,
    failures: 0,
    restart: undefined,
  }));
  const slotOf = new Map<number, Slot>();
  const listening = new Set<number>();
  let ready = false;
  let stopping = false;
  let failed = false;

  const fork = (slot: Slot): void => {
    slot.restart = undefined;
    const w = cluster.fork({ [WORKER_ENV.slot]: String(slot.n), [WORKER_ENV.count]: String(n) });
    slot.worker = w;
    slot.startedAt = Date.now();
    slotOf.set(w.id, slot);
    hub.join(w.id, { send: (m: StateMessage) => send(w, m) });
    // A worker's pipe that fails is a worker exiting: 'exit' follows and says so.
    w.on("error", (err: Error) => log.warn({ slot: slot.n, err: err.message }, "worker: IPC error"));
  };

  const stopAll = (signal: string): void => {
    if (stopping) {
      log.error({ signal }, "second signal: killing the workers");
      for (const s of slots) s.worker?.process.kill("SIGKILL");
      log.flush();
      setImmediate(() => process.exit(1));
      return;
    }
    stopping = true;
    log.info({ signal, workers: live().length }, "shutting down: every worker drains");
    for (const s of slots) clearTimeout(s.restart);
    // A worker still starting has no drain handler yet: SIGTERM ends it (or drains it, once it listens).
    for (const w of live())
      if (listening.has(w.id)) send(w, { sy: "drain" });
      else w.process.kill("SIGTERM");
    const giveUp = setTimeout(() => {
      log.error({ timeout_ms: options.drainTimeoutMs + DRAIN_GRACE_MS }, "workers did not stop in time: killed");
      for (const w of live()) w.process.kill("SIGKILL");
      failed = true;
    }, options.drainTimeoutMs + DRAIN_GRACE_MS);
    giveUp.unref();
    finishIfDone();
  };

  const live = (): Worker[] => slots.flatMap((s) => (s.worker === undefined ? [] : [s.worker]));

  const finishIfDone = (): void => {
    if (!stopping || live().length > 0) return;
    log.info({}, "stopped");
    log.flush();
    setImmediate(() => process.exit(failed ? 1 : 0));
  };

  cluster.on("message", (w: Worker, m: unknown) => {
    if (hub.receive(w.id, m)) return;
    const c = m as ControlMessage | undefined;
    if (c?.sy !== "listening") return;
    listening.add(w.id);
    if (ready || listening.size < n) return;
    ready = true;
    options.onReady(c.url, c.admin_url);
  });

  cluster.on("exit", (w: Worker, code: number | null, signal: string | null) => {
    hub.leave(w.id);
    listening.delete(w.id);
    const slot = slotOf.get(w.id);
    slotOf.delete(w.id);
    if (slot === undefined) return;
    if (slot.worker === w) slot.worker = undefined;
    if (stopping) {
      if (code !== 0) failed = true;
      return finishIfDone();
    }
    if (!ready) {
      // The gateway could not start (the worker said why): the others stop too.
      log.error({ slot: slot.n, code, signal }, "a worker failed to start: stopping");
      failed = true;
      return stopAll("startup failure");
    }
    slot.failures = Date.now() - slot.startedAt >= HEALTHY_RUN_MS ? 0 : slot.failures + 1;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, slot.failures - 1));
    log.warn({ slot: slot.n, pid: w.process.pid, code, signal, restart_in_ms: delay }, "worker exited: starting another");
    slot.restart = setTimeout(fork, delay, slot);
  });

  process.on("SIGTERM", () => stopAll("SIGTERM"));
  process.on("SIGINT", () => stopAll("SIGINT"));
  process.on("SIGHUP", () => {
    log.info({ workers: live().length }, "SIGHUP: every worker reloads");
    for (const w of live()) send(w, { sy: "reload" });
  });

  for (const slot of slots) fork(slot);
  log.info({ workers: n, pid: process.pid }, "primary: workers started");
}

/** A message to a worker; a closed pipe drops it (the worker's exit is handled on its own). */
function send(w: Worker, m: StateMessage | ControlMessage): void {
  if (w.isConnected()) w.send(m, undefined, ignoreSendError);
}

function ignoreSendError(): void {}
