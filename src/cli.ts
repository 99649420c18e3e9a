#!/usr/bin/env node
import cluster from "node:cluster";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { Command, Option } from "commander";
import { loadResponseMappers } from "./providers/rest/response-mapper.js";
import { stringify } from "yaml";
import { ConfigError } from "./errors.js";
import { resolveConfig } from "./config/resolve.js";
import { maskConfig } from "./config/mask.js";
import { configJsonSchemaText } from "./config/json-schema.js";
import { VERSION } from "./version.js";
import { createGateway, MemoryStore, parseConfig, startServer } from "./index.js";
import { type ConfigSource, fileSource, fixedSource } from "./control/config-source.js";
import { withDiscovery } from "./control/discovery.js";
import { createLogger } from "./telemetry/logger.js";
import { startDemo, demoBanner } from "./demo.js";
import { registerSimulateCommand } from "./simulator/cli.js";
import { runDemoScenario } from "./demo-scenario.js";
import type { Config } from "./config/schema.js";
import { runPrimary } from "./cluster/primary.js";
import { announceListening, onPrimaryControl, type WorkerInfo, workerInfo, workerSource, workerStore } from "./cluster/worker.js";

const program = new Command()
  .name("switchyard")
  .description("Gateway and load balancer for outbound calls to LLM providers and REST APIs")
  .version(VERSION);

program
  .command("start")
  .description("Start the gateway (config from --config, ./switchyard.yaml, or SWITCHYARD_* variables)")
  .option("-c, --config <file>", "YAML config file")
  .option("--demo", "run the built-in demo: simulated providers in this process, no config needed")
  .addOption(new Option("-p, --port <port>", "listen port (overrides server.port)").argParser(parsePort))
  .option("-H, --host <host>", "listen address (overrides server.host)")
  .addOption(
    new Option(
      "-w, --workers <n>",
      "run N worker processes on the same port (auto: one per core); they share state through the primary, or through Redis with `shared`",
    ).argParser(parseWorkers),
  )
  .action(async (opts: { config?: string; demo?: boolean; port?: number; host?: string; workers?: number }) => {
    if (opts.workers !== undefined && cluster.isPrimary) return startPrimary(opts.config, opts.workers, opts.demo === true);
    const worker: WorkerInfo | undefined = cluster.isWorker ? workerInfo() : undefined;
    let config: Config;
    let source: ConfigSource;
    let stopDemo: (() => Promise<void>) | undefined;
    try {
      if (opts.demo) {
        const demo = await startDemo({ port: opts.port, host: opts.host });
        config = demo.config;
        stopDemo = demo.close;
        source = fixedSource(config, "demo");
      } else {
        const resolved = resolveConfig(opts.config);
        const base = resolved.file ? fileSource(resolved.source) : fixedSource(resolved.config, resolved.source);
        source = withDiscovery(base, createLogger(resolved.config.log.level));
        if (worker !== undefined) source = workerSource(source, worker);
        config =
          worker !== undefined || resolved.config.routes.some((r) => r.discovery !== undefined) ? await source.load() : resolved.config;
        await loadResponseMappers(config, configDir(resolved.source));
      }
    } catch (err) {
      await stopDemo?.();
      exitWithConfigError(err);
    }
    const log = createLogger(config.log.level);
    if (worker !== undefined) log.setBindings({ worker: worker.slot });
    const gateway = createGateway(config, { logger: log, store: worker === undefined ? undefined : workerStore(config, log) });
    let server;
    try {
      server = await startServer(gateway, {
        port: opts.port ?? config.server.port,
        host: opts.host ?? config.server.host,
        logger: log,
        source,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
      // A listener that cannot bind (the main one, or metrics.port) names its own address; anything else (the store) says why.
      if (e.syscall === "listen")
        console.error(`switchyard: cannot listen on ${e.address ?? config.server.host}:${e.port ?? "?"}: ${e.code ?? e.message}`);
      else console.error(`switchyard: ${e.message}`);
      await gateway.close(); // writes the persisted state and closes its file
      await stopDemo?.();
      process.exit(1);
    }
    if (worker !== undefined) announceListening(server.url, server.adminHttp === undefined ? undefined : server.adminUrl);
    else if (opts.demo) console.log(demoBanner(server.url));
    else
      console.log(
        `switchyard ${VERSION} listening on ${server.url} (${config.routes.length} route${config.routes.length === 1 ? "" : "s"}); status at ${server.url}/admin/status`,
      );
    if (server.adminHttp !== undefined && worker === undefined) console.log(`admin API and dashboard on ${server.adminUrl}`);
    log.info({ url: server.url, admin_url: server.adminUrl, routes: config.routes.map((r) => r.name) }, "listening");
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
        if (worker !== undefined) return; // the primary's drain and a signal to the whole group: one drain
        console.error(`switchyard: second ${signal}, exiting now`);
        process.exit(1);
      }
      stopping = true;
      log.info(
        { signal, in_flight: gateway.inFlight, drain_timeout_ms: config.server.drain_timeout_ms },
        "shutting down: draining in-flight requests",
      );
      await server.shutdown(config.server.drain_timeout_ms);
      await stopDemo?.();
      log.info({}, "stopped");
      log.flush();
      setImmediate(() => process.exit(0));
    };
    const control = server.control;
    process.on("SIGHUP", () => void control?.reload("SIGHUP"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
    if (worker !== undefined) onPrimaryControl({ drain: () => void stop("drain"), reload: () => void control?.reload("SIGHUP") });
    else process.on("SIGINT", () => void stop("SIGINT"));
  });

/**
 * `start --workers N`: the primary only forks and watches (cluster/primary.ts). The config is
 * read here once, so a bad one is said before any worker starts.
 */
function startPrimary(file: string | undefined, workers: number, demo: boolean): void {
  if (demo) {
    console.error("switchyard: --demo runs in one process; drop --workers");
    process.exit(1);
  }
  let config: Config;
  try {
    config = resolveConfig(file).config;
  } catch (err) {
    exitWithConfigError(err);
  }
  const log = createLogger(config.log.level);
  log.setBindings({ worker: "primary" });
  runPrimary({
    workers,
    log,
    drainTimeoutMs: config.server.drain_timeout_ms,
    onReady: (url, adminUrl) => {
      console.log(
        `switchyard ${VERSION} listening on ${url} (${config.routes.length} route${config.routes.length === 1 ? "" : "s"}, ${workers} workers); status at ${url}/admin/status`,
      );
      if (adminUrl !== undefined) console.log(`admin API and dashboard on ${adminUrl}`);
    },
  });
}

program
  .command("validate")
  .description("Check a config: print it resolved, with secrets masked, or its errors (exit 0 / 1)")
  .option("-c, --config <file>", "YAML config file")
  .action(async (opts: { config?: string }) => {
    try {
      const resolved = resolveConfig(opts.config);
      const source = resolved.source;
      let config = resolved.config;
      // Routes with discovery: validated with the targets found now (the file, the SRV records).
      if (config.routes.some((r) => r.discovery !== undefined))
        config = await withDiscovery(
          resolved.file ? fileSource(source) : fixedSource(config, source),
          createLogger(config.log.level),
        ).load();
      await loadResponseMappers(config, configDir(source));
      // Strategy options are checked when routes are built. Built offline: validating writes no
      // store file and opens no Redis (the store path, the cache's and the shared state's Redis are
      // checked as config, not reached).
      const offline = parseConfig(
        { ...config, store: { path: ":memory:" }, cache: { ...config.cache, store: "memory" }, shared: undefined },
        source,
      );
      await createGateway(offline, { store: new MemoryStore() }).close();
      process.stdout.write(`# ${source}: valid\n${stringify(maskConfig(config))}`);
    } catch (err) {
      exitWithConfigError(err);
    }
  });

program
  .command("schema")
  .description("Print the config's JSON Schema, for editors to complete and check switchyard.yaml")
  .option("-o, --out <file>", "write it to this file instead")
  .action((opts: { out?: string }) => {
    const text = configJsonSchemaText();
    if (opts.out === undefined) process.stdout.write(text);
    else {
      writeFileSync(opts.out, text);
      console.log(`switchyard: wrote ${opts.out}`);
    }
  });

registerSimulateCommand(program, { runDemo: runDemoScenario });

/** Relative paths in a config file (response mappers) are relative to the file's folder. */
function configDir(source: string): string {
  return source === "environment" || source === "command line" ? process.cwd() : dirname(resolve(source));
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port: must be a port number 0-65535 (got "${v}")`);
  return n;
}

/** `--workers`: a count, or `auto` (one per core). */
function parseWorkers(v: string): number {
  if (v === "auto") return availableParallelism();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`--workers: must be a count 1-256 or auto (got "${v}")`);
  return n;
}

function exitWithConfigError(err: unknown): never {
  if (err instanceof ConfigError) console.error(`switchyard: ${err.message}`);
  else console.error(`switchyard: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
}

program.parseAsync(process.argv).catch((err) => {
  console.error(`switchyard: ${(err as Error).message}`);
  process.exit(1);
});
