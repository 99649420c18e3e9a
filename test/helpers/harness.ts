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
export async function startGateway(config: ConfigInput, options: Parameters<typeof createGateway>[1] = {}): Promise<RunningGateway> {
  const gateway = createGateway({ ...config, server: { ...config.server, host: "127.0.0.1", port: 0 } }, options);
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

/** Kept for importers outside this refactor (test/providers/adapters.test.ts); the helper lives in http.ts. */
export { postJson } from "./http.js";

export function chatBody(model = "demo", extra: Record<string, unknown> = {}) {
  return { model, messages: [{ role: "user", content: "hello there" }], ...extra };
}
