import type { Config, ConfigInput } from "./config/schema.js";
import { parseConfig } from "./config/load.js";
import { startDemoProviders } from "./simulator/demo-providers.js";
import type { SimProvider } from "./simulator/sim-provider.js";

/**
 * The built-in demo: simulated providers started in this process, and a gateway config whose
 * targets are those providers. `npm start` runs it; so does `switchyard simulate demo`.
 */
export async function startDemo(
  opts: { port?: number; host?: string } = {},
): Promise<{ config: Config; providers: SimProvider[]; close: () => Promise<void> }> {
  const sims = await startDemoProviders();
  const byName = (name: string): SimProvider => {
    const p = sims.providers.find((s) => s.options.name === name);
    if (p === undefined) throw new Error(`demo provider ${name} missing`);
    return p;
  };
  const input: ConfigInput = {
    server: { host: opts.host ?? "127.0.0.1", port: opts.port ?? 8080, drain_timeout_ms: 10_000 },
    log: { level: "info" },
    timeouts: { connect_ms: 1_000, first_byte_ms: 10_000, idle_ms: 10_000, total_ms: 60_000 },
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["gpt-4o-mini", "demo"],
        strategy: "weighted",
        retry: { attempts: 3 },
        targets: [
          {
            id: "sim-fast",
            provider: "openai",
            base_url: byName("sim-fast").url,
            key: "sk-demo-fast-0001",
            weight: 70,
            model: "gpt-4o-mini",
            cost: { input_per_1m: 0.15, output_per_1m: 0.6 },
            quality: 0.7,
          },
          {
            id: "sim-medium",
            provider: "openai",
            base_url: byName("sim-medium").url,
            key: "sk-demo-medium-0002",
            weight: 20,
            model: "gpt-4o-mini",
            cost: { input_per_1m: 0.5, output_per_1m: 1.5 },
            quality: 0.8,
          },
          {
            id: "sim-slow",
            provider: "openai-compatible",
            base_url: byName("sim-slow").url,
            key: "sk-demo-slow-0003",
            weight: 10,
            model: "gpt-4o-mini",
            cost: { input_per_1m: 0.1, output_per_1m: 0.2 },
            quality: 0.6,
          },
        ],
      },
      {
        // A model group across providers: OpenAI clients ask for "smart" and get gpt-4o-mini from
        // an OpenAI simulator or claude-sonnet-4 from the Anthropic one, translated both ways.
        name: "smart",
        surface: "openai",
        models: ["smart"],
        strategy: "round-robin",
        retry: { attempts: 3 },
        targets: [
          { id: "smart-openai", provider: "openai", base_url: byName("sim-fast").url, key: "sk-demo-fast-0001", model: "gpt-4o-mini" },
          {
            id: "smart-claude",
            provider: "anthropic",
            base_url: byName("sim-anthropic").url,
            key: "sk-ant-demo-0004",
            model: "claude-sonnet-4",
          },
        ],
      },
      {
        name: "claude",
        surface: "anthropic",
        models: ["claude-demo"],
        targets: [
          {
            id: "sim-anthropic",
            provider: "anthropic",
            base_url: byName("sim-anthropic").url,
            key: "sk-ant-demo-0004",
            model: "claude-sonnet-4",
          },
        ],
      },
      {
        name: "gemini",
        surface: "gemini",
        models: ["gemini-demo"],
        targets: [
          {
            id: "sim-gemini",
            provider: "gemini",
            base_url: byName("sim-gemini").url,
            key: "demo-gemini-key-0005",
            model: "gemini-2.5-flash",
          },
        ],
      },
      {
        name: "quotes",
        surface: "rest",
        service: "quotes",
        // Quotes change slowly: GETs are answered from the cache for 10 s, and up to 5 min old while the vendor is down.
        cache: { ttl_s: 10, stale_ttl_s: 300 },
        targets: [
          {
            id: "sim-rest",
            provider: "rest",
            base_url: byName("sim-rest").url,
            key: "demo-rest-key-0006",
            auth: { type: "query", name: "apikey" },
          },
        ],
      },
    ],
  };
  return { config: parseConfig(input, "demo"), providers: sims.providers, close: sims.close };
}

export function demoBanner(url: string): string {
  const chat = `curl -s ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"demo","messages":[{"role":"user","content":"Hello"}]}'`;
  const stream = `curl -sN ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"demo","stream":true,"messages":[{"role":"user","content":"Hello"}]}'`;
  return [
    "",
    `Switchyard demo is running on ${url}`,
    "  simulated upstreams in this process: sim-fast (100 ms, 5 % errors, weight 70), sim-medium (500 ms, 10 %, weight 20),",
    "  sim-slow (2 s, 20 %, weight 10) behind the OpenAI route; one Anthropic, one Gemini and one REST simulator.",
    "",
    "Send a chat completion:",
    `  ${chat}`,
    "Stream one:",
    `  ${stream}`,
    "One model across providers (OpenAI and Anthropic simulators, translated; x-switchyard-target says which):",
    `  curl -s ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"smart","messages":[{"role":"user","content":"Hello"}]}'`,
    "Other surfaces:",
    `  curl -s ${url}/v1/models`,
    `  curl -s ${url}/v1/messages -H 'content-type: application/json' -d '{"model":"claude-demo","max_tokens":64,"messages":[{"role":"user","content":"Hello"}]}'`,
    `  curl -s '${url}/v1beta/models/gemini-demo:generateContent' -H 'content-type: application/json' -d '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'`,
    `  curl -s '${url}/rest/quotes/v1/quote?symbol=IBM'        (twice, with -i: x-switchyard-cache says miss, then hit)`,
    `WebSocket streaming: ws://${url.replace(/^http:\/\//, "")}/v1/stream   (one socket, many requests: README "WebSocket streaming")`,
    `Dashboard: ${url}/dashboard                (live cards, graphs and controls; open it in a browser)`,
    `Status:  curl -s ${url}/admin/status          (live stats; windows: the last 1 min / 5 min / 1 h)`,
    `Change:  curl -s -X PATCH ${url}/admin/routes/chat/targets/sim-slow -H 'content-type: application/json' -d '{"weight":50}'   (no restart; see /admin/openapi.json)`,
    `Metrics: curl -s ${url}/metrics               (Prometheus)`,
    `Usage:   curl -s ${url}/admin/usage           (requests, tokens and cost by route, target, model)`,
    `Load:    node dist/cli.js simulate load --url ${url} --concurrency 100 --duration 10s   (in another terminal)`,
    "Stop with Ctrl-C.",
    "",
  ].join("\n");
}
