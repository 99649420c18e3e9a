/** The load generator of the end-to-end tests: `fire` sends chat completions and records every answer. */
import { Pool } from "undici";

export interface Shot {
  status: number;
  target: string;
  ms: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends `count` chat completions with `concurrency` clients; every answer is recorded. */
export async function fire(
  url: string,
  count: number,
  concurrency: number,
  opts: { model?: string; headers?: Record<string, string>; body?: unknown; onShot?: (i: number, s: Shot) => void } = {},
): Promise<Shot[]> {
  const client = new Pool(url, { connections: concurrency });
  const body = JSON.stringify(opts.body ?? { model: opts.model ?? "demo", messages: [{ role: "user", content: "hi" }] });
  const shots: Shot[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          const t0 = performance.now();
          const res = await client.request({
            path: "/v1/chat/completions",
            method: "POST",
            headers: { "content-type": "application/json", ...opts.headers },
            body,
          });
          const text = await res.body.text();
          const shot = {
            status: res.statusCode,
            target: String(res.headers["x-switchyard-target"] ?? ""),
            ms: performance.now() - t0,
            headers: res.headers,
            body: text,
          };
          shots.push(shot);
          opts.onShot?.(i, shot);
        }
      }),
    );
  } finally {
    await client.close();
  }
  return shots;
}
