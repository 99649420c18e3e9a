/**
 * The dashboard tests' gateway: simulators behind one route, and a real server with the admin
 * API, the events stream and the dashboard's pages, an admin token set. Built here (not with
 * startServer) until index.ts mounts eventsEndpoint and dashboardEndpoints itself.
 */
import { createGateway, type ConfigInput } from "../../src/index.js";
import { ControlPlane } from "../../src/control/control-plane.js";
import { fixedSource } from "../../src/control/config-source.js";
import { adminEndpoints } from "../../src/admin/admin-api.js";
import { eventsEndpoint } from "../../src/admin/events-stream.js";
import { dashboardEndpoints } from "../../src/admin/dashboard-endpoints.js";
import { SwitchyardServer } from "../../src/server/server.js";
import { createLogger } from "../../src/telemetry/logger.js";
import type { Gateway } from "../../src/pipeline/gateway.js";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { sleep } from "../helpers/wait.js";

export const ADMIN_TOKEN = "dash-admin-token-7f3a9c";
/** Full keys: none may show up anywhere (page, stream, admin answers) but as `****` + last 4. */
export const KEYS = ["sk-dash-secret-key-alpha-1111", "sk-dash-secret-key-bravo-2222", "sk-dash-secret-key-charlie-3333"];

export interface DashboardGateway {
  url: string;
  gateway: Gateway;
  sims: SimProvider[];
  server: SwitchyardServer;
  close(): Promise<void>;
}

export async function startDashboardGateway(simCount = 3, route: Partial<ConfigInput["routes"][number]> = {}): Promise<DashboardGateway> {
  const sims: SimProvider[] = [];
  try {
    for (let i = 0; i < simCount; i++) sims.push(await startSimProvider({ dialect: "openai", name: `sim${i}`, latency_ms: 15 }));
    const gateway = createGateway({
      server: { host: "127.0.0.1", port: 0 },
      admin: { token: ADMIN_TOKEN },
      log: { level: "silent" },
      routes: [
        {
          name: "chat",
          surface: "openai",
          models: ["demo"],
          strategy: "round-robin",
          // Opens after two failures in a row and stays open: a dead simulator goes red fast.
          breaker: { failure_threshold: 2, open_s: 30, max_open_s: 60, probe_interval_s: 0 },
          ...route,
          targets: sims.map((s, i) => ({
            id: `t${i}`,
            provider: "openai" as const,
            base_url: s.url,
            key: KEYS[i] ?? `sk-dash-extra-key-${i}`,
            cost: { input_per_1m: 2, output_per_1m: 8 },
          })),
        },
      ],
    });
    const log = createLogger("silent");
    const control = new ControlPlane(gateway, fixedSource(gateway.config, "test"), log);
    const server = new SwitchyardServer(gateway, log, [...adminEndpoints(control), eventsEndpoint(gateway), ...dashboardEndpoints()]);
    server.control = control;
    await server.listen(0, "127.0.0.1");
    return {
      url: server.url,
      gateway,
      sims,
      server,
      close: async () => {
        await server.shutdown(0);
        await Promise.all(sims.map((s) => s.close()));
      },
    };
  } catch (err) {
    await Promise.all(sims.map((s) => s.close()));
    throw err;
  }
}

export const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** POSTs an action on a target with the admin token; the answer's text. */
export async function targetAction(url: string, target: string, action: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/admin/routes/chat/targets/${target}/${action}`, { method: "POST", headers: adminHeaders });
  return { status: res.status, text: await res.text() };
}

/** A few loops of chat requests until stop(): keeps traffic (and so breakers and windows) moving. */
export function keepTraffic(url: string, loops = 2, pauseMs = 15): { stop(): Promise<void>; sent(): number } {
  let running = true;
  let sent = 0;
  const body = JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hello" }] });
  const loop = async () => {
    while (running) {
      try {
        const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
        await res.arrayBuffer();
        sent++;
      } catch {
        // The gateway is closing: the loop ends at the next check.
      }
      await sleep(pauseMs);
    }
  };
  const all = Promise.all(Array.from({ length: loops }, loop));
  return {
    stop: async () => {
      running = false;
      await all;
    },
    sent: () => sent,
  };
}
