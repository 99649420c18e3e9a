/**
 * `switchyard simulate …`: start fake providers from YAML, run the load generator against a
 * gateway, or run the demo (whose gateway part is injected by the caller, so this module never
 * imports the gateway).
 */
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { startDemoProviders, startProviders } from "./demo-providers.js";
import { formatReport, runLoad } from "./load.js";
import { simOptionsSchema, type SimOptions } from "./sim-options.js";
import type { SimProvider } from "./sim-provider.js";

export interface SimulateDeps {
  /** The demo scenario (gateway + clients); without it, `simulate demo` only starts the demo providers. */
  runDemo?: (opts: { durationMs: number }) => Promise<void>;
  /** Where output goes (default stdout); tests capture it. */
  print?: (text: string) => void;
  /** Resolves when the process should stop (default: SIGINT or SIGTERM). */
  untilStopped?: () => Promise<void>;
}

/** "500ms", "10s", "2m", "1h", or a bare number of seconds → ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new Error(`not a duration: "${text}" (use e.g. 500ms, 10s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000));
}

/** Providers from YAML: a list of SimOptions (with dialect), or {providers: [...]}. */
export function parseProvidersYaml(text: string): SimOptions[] {
  const doc: unknown = parseYaml(text);
  const list = Array.isArray(doc) ? doc : (doc as { providers?: unknown } | null)?.providers;
  if (!Array.isArray(list)) throw new Error("providers config: expected a YAML list of providers (or `providers:` with a list)");
  return list.map((item, i) => {
    const r = simOptionsSchema.safeParse(item);
    if (!r.success) {
      const why = r.error.issues.map((x) => `${x.path.join(".") || "(item)"}: ${x.message}`).join("; ");
      throw new Error(`providers config: item ${i}: ${why}`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.data)) if (v !== null) out[k] = v;
    return out as unknown as SimOptions;
  });
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}

/** One line per provider: name, dialect, base URL, control URL (which stays up while the provider is down). */
function describe(providers: SimProvider[]): string {
  const width = Math.max(...providers.map((p) => (p.options.name ?? "").length));
  const urlWidth = Math.max(...providers.map((p) => p.url.length));
  return providers
    .map(
      (p) =>
        `  ${(p.options.name ?? "").padEnd(width)}  ${p.options.dialect.padEnd(9)}  ${p.url.padEnd(urlWidth)}  control ${p.controlUrl}`,
    )
    .join("\n");
}

export function registerSimulateCommand(program: Command, deps: SimulateDeps = {}): void {
  const print = deps.print ?? ((t: string) => process.stdout.write(t));
  const untilStopped = deps.untilStopped ?? waitForSignal;
  const sim = program.command("simulate").description("Simulated upstreams, load generation and the demo");

  sim
    .command("providers")
    .description("Start fake providers from a YAML list [{name, dialect, port, ...options}] until Ctrl-C")
    .requiredOption("-c, --config <file>", "YAML file with the providers")
    .action(async (opts: { config: string }) => {
      const list = parseProvidersYaml(readFileSync(opts.config, "utf8"));
      const { providers, close } = await startProviders(list);
      print(
        `simulated providers (control API, up even while a provider is down: <control>/_sim/stats, /_sim/config, /_sim/reset):\n${describe(providers)}\n`,
      );
      await untilStopped();
      await close();
    });

  sim
    .command("load")
    .description("Send OpenAI chat completions to a gateway and report throughput, errors, share per target and latency")
    .requiredOption("-u, --url <url>", "gateway base URL, e.g. http://127.0.0.1:8080")
    .option("--path <path>", "request path", "/v1/chat/completions")
    .option("--model <model>", "model name in the body", "demo")
    .option("--key <key>", "sent as Authorization: Bearer <key>")
    .addOption(new Option("--concurrency <n>", "concurrent clients").default(100).argParser(positiveInt("--concurrency")))
    .option("--duration <duration>", "how long, e.g. 10s (default 10s unless --requests)")
    .addOption(new Option("--requests <n>", "how many requests").argParser(positiveInt("--requests")))
    .option("--stream", "ask for streamed responses")
    .action(
      async (opts: {
        url: string;
        path: string;
        model: string;
        key?: string;
        concurrency: number;
        duration?: string;
        requests?: number;
        stream?: boolean;
      }) => {
        const body = JSON.stringify({
          model: opts.model,
          messages: [{ role: "user", content: "Hello from switchyard simulate load" }],
          ...(opts.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
        });
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
        const tty = process.stdout.isTTY === true && deps.print === undefined;
        const durationMs = opts.duration !== undefined ? parseDuration(opts.duration) : opts.requests === undefined ? 10_000 : undefined;
        const report = await runLoad({
          url: opts.url,
          method: "POST",
          path: opts.path,
          headers,
          body,
          concurrency: opts.concurrency,
          durationMs,
          requests: opts.requests,
          stream: opts.stream === true,
          onProgress: (p) => print(tty ? `\r${p.line}` : `${p.line}\n`),
        });
        print(`${tty ? "\n" : ""}${formatReport(report)}\n`);
      },
    );

  sim
    .command("demo")
    .description("The demo: simulated providers, a gateway in front of them and 100 clients")
    .option("--duration <duration>", "how long the clients run", "15s")
    .action(async (opts: { duration: string }) => {
      const durationMs = parseDuration(opts.duration);
      if (deps.runDemo !== undefined) return deps.runDemo({ durationMs });
      const { providers, close } = await startDemoProviders();
      print(`demo providers (no gateway in this build):\n${describe(providers)}\n`);
      await untilStopped();
      await close();
    });
}

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag}: must be a whole number >= 1 (got "${v}")`);
    return n;
  };
}
