/**
 * Every client surface × every upstream kind on one gateway: route `<surface>-<upstream>` serves
 * model `via-<upstream>` on its surface, with one target on a simulator of that upstream kind.
 * The SDK tests point an official SDK at the gateway and pick the upstream by model name.
 */
import type { SimProvider } from "../../src/simulator/sim-provider.js";
import type { RunningGateway } from "./harness.js";
import { simRoute } from "./sim-route.js";

export const UPSTREAMS = ["openai", "openai-compatible", "anthropic", "gemini"] as const;
export type Upstream = (typeof UPSTREAMS)[number];
export const MODES = ["json", "stream"] as const;

/** The model each upstream's target asks its provider for (what the answer's model field says). */
export const UPSTREAM_MODEL: Record<Upstream, string> = {
  openai: "gpt-4o",
  "openai-compatible": "llama-3.3-70b",
  anthropic: "claude-sonnet-4",
  gemini: "gemini-2.5-flash",
};

export const targetId = (u: Upstream) => `${u}-sim`;

export interface Matrix {
  gw: RunningGateway;
  sims: Record<Upstream, SimProvider>;
  close(): Promise<void>;
}

export async function startMatrix(): Promise<Matrix> {
  const f = await simRoute({
    sims: UPSTREAMS.map((u) => ({ dialect: u === "openai-compatible" ? "openai" : u, name: `sim-${u}`, stream_chunks: 3 })),
    routes: (started) =>
      (["openai", "anthropic", "gemini"] as const).flatMap((surface) =>
        UPSTREAMS.map((u, i) => ({
          name: `${surface}-${u}`,
          surface,
          models: [`via-${u}`],
          targets: [{ id: targetId(u), provider: u, base_url: started[i]!.url, key: `key-${u}-0001`, model: UPSTREAM_MODEL[u] }],
        })),
      ),
  });
  const sims = Object.fromEntries(UPSTREAMS.map((u, i) => [u, f.sims[i]!])) as Record<Upstream, SimProvider>;
  return { gw: f.gw, sims, close: () => f.close() };
}

/** A first user turn long enough that carrying it upstream visibly raises the prompt's token count. */
export const LONG_TURN = `Remember this context: ${"the gateway translates every dialect faithfully ".repeat(10)}`;
export const TOOL_RESULT = "sunny, 21C";
export const WEATHER_SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] } as const;
