/** Drives the real gateway for the distribution tests: N requests from C concurrent clients. */
import { Pool } from "undici";
import { chatBody } from "../helpers/harness.js";
import { countBy } from "../helpers/count.js";
import type { SimProvider } from "../../src/simulator/index.js";

export interface Sent {
  /** Dispatch order: request i was sent before request i + 1 (by the same or another client). */
  index: number;
  target: string;
  status: number;
  sentAt: number;
  doneAt: number;
}

export interface DriveOptions {
  requests: number;
  concurrency: number;
  /** Body of request i (default: a short chat completion for model "demo"). */
  body?: (i: number) => unknown;
  headers?: (i: number) => Record<string, string>;
}

export async function drive(url: string, opts: DriveOptions): Promise<Sent[]> {
  // Short timeouts: a stuck call should fail the test in seconds, not hang it for minutes.
  const client = new Pool(url, { connections: opts.concurrency, pipelining: 1, headersTimeout: 20_000, bodyTimeout: 20_000 });
  const out: Sent[] = new Array(opts.requests);
  const defaultBody = JSON.stringify(chatBody("demo"));
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next < opts.requests) {
          const index = next++;
          const body = opts.body ? JSON.stringify(opts.body(index)) : defaultBody;
          const sentAt = performance.now();
          const res = await client.request({
            path: "/v1/chat/completions",
            method: "POST",
            headers: { "content-type": "application/json", ...opts.headers?.(index) },
            body,
          });
          await res.body.dump();
          out[index] = {
            index,
            target: String(res.headers["x-switchyard-target"] ?? ""),
            status: res.statusCode,
            sentAt,
            doneAt: performance.now(),
          };
        }
      }),
    );
  } finally {
    await client.close();
  }
  return out;
}

export const countTargets = (sent: readonly Sent[]): Record<string, number> => countBy(sent, (s) => s.target);

/** simRoute's `target` for the distribution tests: the fixture's ids t0, t1, …, keys sk-dist-0000, …, and `extra(i)`. */
export function distTarget(extra: (i: number) => Record<string, unknown> = () => ({})) {
  return (_: SimProvider, i: number) => ({ key: `sk-dist-${String(i).padStart(4, "0")}`, ...extra(i) });
}
