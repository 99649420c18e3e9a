/**
 * The demo's upstreams: three OpenAI sims of different speed and reliability for the weighted
 * route (sim-fast 100 ms / 5 % errors, sim-medium 500 ms / 10 %, sim-slow 2 s / 20 %, each
 * with ±20 % latency jitter), plus one Anthropic, one Gemini and one REST sim with small latency.
 */
import { startSimProvider, type SimProvider } from "./sim-provider.js";
import type { SimOptions } from "./sim-options.js";

export const DEMO_PROVIDERS: readonly SimOptions[] = [
  { dialect: "openai", name: "sim-fast", latency_ms: 100, jitter_ms: 20, error_rate: 0.05 },
  { dialect: "openai", name: "sim-medium", latency_ms: 500, jitter_ms: 100, error_rate: 0.1 },
  { dialect: "openai", name: "sim-slow", latency_ms: 2000, jitter_ms: 400, error_rate: 0.2 },
  { dialect: "anthropic", name: "sim-anthropic", latency_ms: 30, jitter_ms: 10 },
  { dialect: "gemini", name: "sim-gemini", latency_ms: 30, jitter_ms: 10 },
  // A market-data vendor: answers a quote for ?symbol= (and never echoes the caller's key).
  { dialect: "rest", name: "sim-rest", latency_ms: 10, jitter_ms: 5, rest_response: (r) => demoQuote(r.path, r.query.symbol) },
];

function demoQuote(path: string, symbol: string | undefined): unknown {
  if (symbol === undefined) return { error: "pass ?symbol=", source: "sim-rest", path };
  let h = 0;
  for (const c of symbol) h = (h * 31 + c.charCodeAt(0)) % 100_000;
  return { symbol: symbol.toUpperCase(), price: Math.round(50 + (h % 45_000) / 100) + 0.25, currency: "USD", source: "sim-rest", path };
}

export async function startDemoProviders(): Promise<{ providers: SimProvider[]; close: () => Promise<void> }> {
  return startProviders(DEMO_PROVIDERS);
}

/** Starts every provider; if one fails, closes those already started and rethrows. */
export async function startProviders(list: readonly SimOptions[]): Promise<{ providers: SimProvider[]; close: () => Promise<void> }> {
  const settled = await Promise.allSettled(list.map((o) => startSimProvider(o)));
  const providers = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const close = async (): Promise<void> => {
    await Promise.all(providers.map((p) => p.close()));
  };
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed !== undefined) {
    await close();
    throw failed.reason;
  }
  return { providers, close };
}
