import { createGateway, startServer, type ConfigInput } from "../../src/index.js";
import type { Gateway } from "../../src/pipeline/gateway.js";
import type { SwitchyardServer } from "../../src/server/server.js";
import { createLogger } from "../../src/telemetry/logger.js";

export interface RunningGateway {
  url: string;
  gateway: Gateway;
  server: SwitchyardServer;
  status(): Promise<any>;
  close(): Promise<void>;
}

/** Starts the real gateway server on 127.0.0.1, port chosen by the OS, logs silenced. */
export async function startGateway(config: ConfigInput): Promise<RunningGateway> {
  const gateway = createGateway({ ...config, server: { ...config.server, host: "127.0.0.1", port: 0 } });
  const server = await startServer(gateway, { logger: createLogger("silent") });
  const url = server.url;
  return {
    url,
    gateway,
    server,
    status: async () => (await fetch(`${url}/admin/status`)).json(),
    close: () => server.shutdown(0),
  };
}

/** POST a JSON body; returns status, headers and parsed body (text when not JSON). */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function chatBody(model = "demo", extra: Record<string, unknown> = {}) {
  return { model, messages: [{ role: "user", content: "hello there" }], ...extra };
}
