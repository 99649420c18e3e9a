#!/usr/bin/env node
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Command, Option } from "commander";
import { loadResponseMappers } from "./providers/rest/response-mapper.js";
import { stringify } from "yaml";
import { ConfigError } from "./errors.js";
import { resolveConfig } from "./config/resolve.js";
import { maskConfig } from "./config/mask.js";
import { configJsonSchemaText } from "./config/json-schema.js";
import { VERSION } from "./version.js";
import { createGateway, MemoryStore, startServer } from "./index.js";
import { type ConfigSource, fileSource, fixedSource } from "./control/config-source.js";
import { withDiscovery } from "./control/discovery.js";
import { createLogger } from "./telemetry/logger.js";
import { startDemo, demoBanner } from "./demo.js";
import { registerSimulateCommand } from "./simulator/cli.js";
import { runDemoScenario } from "./demo-scenario.js";
import type { Config } from "./config/schema.js";

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
  .action(async (opts: { config?: string; demo?: boolean; port?: number; host?: string }) => {
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
        config = resolved.config.routes.some((r) => r.discovery !== undefined) ? await source.load() : resolved.config;
        await loadResponseMappers(config, configDir(resolved.source));
      }
    } catch (err) {
      await stopDemo?.();
      exitWithConfigError(err);
    }
    const log = createLogger(config.log.level);
    const gateway = createGateway(config, { logger: log });
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
    if (opts.demo) console.log(demoBanner(server.url));
    else
      console.log(
        `switchyard ${VERSION} listening on ${server.url} (${config.routes.length} route${config.routes.length === 1 ? "" : "s"}); status at ${server.url}/admin/status`,
      );
    if (server.adminHttp !== undefined) console.log(`admin API and dashboard on ${server.adminUrl}`);
    log.info({ url: server.url, admin_url: server.adminUrl, routes: config.routes.map((r) => r.name) }, "listening");
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
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
    process.on("SIGINT", () => void stop("SIGINT"));
  });

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
      // Strategy options are checked when routes are built; in memory, so validating writes no store file.
      await createGateway(config, { store: new MemoryStore() }).close();
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

function exitWithConfigError(err: unknown): never {
  if (err instanceof ConfigError) console.error(`switchyard: ${err.message}`);
  else console.error(`switchyard: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
}

program.parseAsync(process.argv).catch((err) => {
  console.error(`switchyard: ${(err as Error).message}`);
  process.exit(1);
});
