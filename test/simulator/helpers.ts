/** Shared helpers for the simulator tests: raw HTTP calls and an SSE parser. */
import { request } from "undici";

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** Parses complete SSE events (LF or CRLF line endings); a trailing partial event is ignored. */
export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  const blocks = text.split(/\r?\n\r?\n/);
  blocks.pop(); // after the last separator: empty, or a partial event
  for (const block of blocks) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length > 0 || event !== undefined) out.push({ event, data: data.join("\n") });
  }
  return out;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

/** One request; the body is read whole. Throws on connection errors (err.code is undici's). */
export async function call(url: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown; signal?: AbortSignal } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await request(url, { method: (opts.method ?? (body === undefined ? "GET" : "POST")) as "GET", headers, body, signal: opts.signal });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(", ") : v;
  return { status: res.statusCode, headers: h, text, json };
}

/** Reads a streamed body chunk by chunk; returns what arrived and the error that ended it, if any. */
export async function readStream(url: string, opts: { headers?: Record<string, string>; body: unknown }): Promise<{
  status: number;
  text: string;
  error: (Error & { code?: string }) | undefined;
  arrivals: { at: number; text: string }[];
}> {
  const res = await request(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...opts.headers },
    body: JSON.stringify(opts.body),
  });
  let text = "";
  const arrivals: { at: number; text: string }[] = [];
  let error: (Error & { code?: string }) | undefined;
  try {
    for await (const chunk of res.body) {
      const s = (chunk as Buffer).toString("utf8");
      text += s;
      arrivals.push({ at: performance.now(), text: s });
    }
  } catch (err) {
    error = err as Error & { code?: string };
  }
  return { status: res.statusCode, text, error, arrivals };
}

/** Polls until check() is true (or fails after timeoutMs). */
export async function eventually(check: () => boolean, timeoutMs = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
