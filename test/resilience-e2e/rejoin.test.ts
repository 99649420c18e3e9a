/**
 * A target that comes back must rejoin: with the default config (the breaker's open_s 2,
 * min_calls 10, window 10 s, as an operator's outside harness set it), a target that refused
 * connections for 8 s or for 60 s takes traffic again within open_s + 3 s of being back — even
 * though its exponential open wait grew to 16, 32, 64 s while it was down. Clients see no error
 * during the outage: the other targets take its share.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "undici";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway, type RunningGateway } from "../helpers/harness.js";

const OPEN_S = 2;
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

interface Shot {
  at: number;
  status: number;
  target: string;
}

async function setup(tag: string): Promise<{ sims: SimProvider[]; gw: RunningGateway }> {
  const sims = await Promise.all(["a", "b", "c"].map((n) => startSimProvider({ dialect: "openai", name: `${tag}-${n}`, latency_ms: 2 })));
  const gw = await startGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        breaker: { open_s: OPEN_S, min_calls: 10, window_s: 10 },
        targets: sims.map((s, i) => ({ id: `t${i}`, provider: "openai" as const, base_url: s.url, key: `sk-rejoin-${tag}-${i}` })),
      },
    ],
  });
  closers.push(async () => {
    await gw.close();
    for (const s of sims) await s.close();
  });
  return { sims, gw };
}

/** Steady load (two clients, ~100 requests/s) until stop() is called; every answer recorded. */
function steadyLoad(url: string): { shots: Shot[]; stop: () => Promise<void> } {
  const pool = new Pool(url, { connections: 2 });
  const shots: Shot[] = [];
  let running = true;
  const body = JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] });
  const client = async () => {
    while (running) {
      const res = await pool.request({
        path: "/v1/chat/completions",
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await res.body.text();
      shots.push({ at: Date.now(), status: res.statusCode, target: String(res.headers["x-switchyard-target"] ?? "") });
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const clients = [client(), client()];
  return {
    shots,
    stop: async () => {
      running = false;
      await Promise.all(clients);
      await pool.close();
    },
  };
}

/** Takes t1 down for outageMs under load; returns how long after it was back it served again. */
async function outage(tag: string, outageMs: number): Promise<{ rejoinMs: number; shots: Shot[]; backAt: number; downAt: number }> {
  const { sims, gw } = await setup(tag);
  const load = steadyLoad(gw.url);
  await new Promise((r) => setTimeout(r, 1_000));
  const downAt = Date.now();
  await sims[1]!.set({ down: true });
  await new Promise((r) => setTimeout(r, outageMs));
  await sims[1]!.set({ down: false });
  const backAt = Date.now();
  const deadline = backAt + 15_000;
  while (Date.now() < deadline && !load.shots.some((s) => s.at > backAt && s.target === "t1")) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, 500));
  await load.stop();
  const first = load.shots.find((s) => s.at > backAt && s.target === "t1");
  return { rejoinMs: first === undefined ? Infinity : first.at - backAt, shots: load.shots, backAt, downAt };
}

// Both outages run at once (independent gateways and simulators): the suite waits ~65 s, not ~75 s.
const eight = outage("8s", 8_000);
const sixty = outage("60s", 60_000);

for (const [name, run, outageS] of [
  ["an 8 s outage", eight, 8],
  ["a 60 s outage", sixty, 60],
] as const) {
  test(`a target back from ${name} takes traffic again within open_s + 3 s; no client error meanwhile`, { timeout: 120_000 }, async () => {
    const { rejoinMs, shots, backAt, downAt } = await run;
    assert.ok(rejoinMs <= (OPEN_S + 3) * 1000, `rejoined ${rejoinMs} ms after it was back (outage ${outageS} s)`);
    const errors = shots.filter((s) => s.status !== 200);
    assert.deepEqual(errors, [], "every client request answered 200 through the outage");
    const during = shots.filter((s) => s.at > downAt + 200 && s.at < backAt);
    assert.ok(during.length > outageS * 20, `steady load during the outage (${during.length} requests)`);
    assert.ok(
      during.every((s) => s.target !== "t1"),
      "the down target served nothing while down",
    );
  });
}
