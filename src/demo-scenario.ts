import { startDemo } from "./demo.js";
import { createGateway, startServer } from "./index.js";
import { createLogger } from "./telemetry/logger.js";
import { runLoad, formatReport } from "./simulator/load.js";

/**
 * `switchyard simulate demo`: the demo providers (100 ms / 5 %, 500 ms / 10 %, 2 s / 20 %,
 * weights 70/20/10), a gateway in front of them, and 100 concurrent clients for a while; prints
 * live progress and the final report (share per target, errors the clients saw, percentiles).
 */
export async function runDemoScenario(opts: { durationMs: number; concurrency?: number }): Promise<void> {
  const demo = await startDemo({ port: 0 });
  const gateway = createGateway(demo.config);
  const server = await startServer(gateway, { port: 0, logger: createLogger("error") });
  const concurrency = opts.concurrency ?? 100;
  console.log(
    `demo: gateway ${server.url}, ${concurrency} clients for ${Math.round(opts.durationMs / 1000)} s against sim-fast/sim-medium/sim-slow (weights 70/20/10)`,
  );
  try {
    const report = await runLoad({
      url: server.url,
      method: "POST",
      path: "/v1/chat/completions",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "demo", messages: [{ role: "user", content: "Hello from the demo" }] }),
      concurrency,
      durationMs: opts.durationMs,
      onProgress: (p) => process.stdout.write(`${process.stdout.isTTY ? "\r" : ""}${p.line}${process.stdout.isTTY ? "" : "\n"}`),
    });
    if (process.stdout.isTTY) process.stdout.write("\n");
    console.log(formatReport(report));
    const status = gateway.status();
    const chat = status.routes.find((r) => r.name === "chat");
    if (chat) {
      console.log("upstream attempts per target (retries included):");
      for (const t of chat.targets)
        console.log(
          `  ${t.id.padEnd(12)} attempts ${String(t.stats.requests).padStart(6)}  failures ${String(t.stats.failures).padStart(5)}  latency ewma ${t.stats.latency_ewma_ms} ms`,
        );
    }
  } finally {
    await server.shutdown(5_000);
    await demo.close();
  }
}
