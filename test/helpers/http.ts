/** HTTP helpers for the tests: one request helper (`call`, `postJson` on top of it), a chunk-by-chunk reader, and a raw socket request. */
import { connect } from "node:net";
import { request } from "undici";

export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

/** One request; the body is read whole and parsed as JSON when it is JSON. Throws on connection errors (err.code is undici's). */
export async function call(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; signal?: AbortSignal } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await request(url, {
    method: (opts.method ?? (body === undefined ? "GET" : "POST")) as "GET",
    headers,
    body,
    signal: opts.signal,
  });
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

/** POST a JSON body (a string is sent as is); the answer's headers as a Headers object (`get` gives null when absent). */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Omit<Reply, "headers"> & { headers: Headers }> {
  const r = await call(url, { method: "POST", headers, body });
  return { ...r, headers: new Headers(r.headers) };
}

/** POSTs a JSON body and reads the streamed answer chunk by chunk; returns what arrived and the error that ended it, if any. */
export async function readStream(
  url: string,
  opts: { headers?: Record<string, string>; body: unknown },
): Promise<{
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

/** Sends one request exactly as written (no client-side path normalisation) and returns status and body. */
export function rawRequest(
  url: string,
  requestLine: string,
  headers: Record<string, string> = {},
  body = "",
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d) => (data += String(d))); // strings, after setEncoding
    socket.on("error", reject);
    socket.on("end", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf("\r\n\r\n") + 4) });
    });
    const head = Object.entries({ host: u.host, connection: "close", "content-length": String(Buffer.byteLength(body)), ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.write(`${requestLine}\r\n${head}\r\n${body}`);
  });
}
