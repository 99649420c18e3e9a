/**
 * A paced load of mixed chat requests (plain and streamed, alternating) at a fixed rate for a
 * fixed time, as a control-plane test needs: every request is checked whole (a plain one parses
 * and has a choice; a streamed one ends with [DONE] and carries no error event).
 */
import { Pool } from "undici";

export interface PacedResult {
  sent: number;
  ok: number;
  failures: { status: number; stream: boolean; body: string }[];
  /** x-switchyard-target of each answer, with its start time. */
  answers: { at: number; target: string }[];
}

export async function pacedLoad(
  url: string,
  opts: { rps: number; durationMs: number; model?: string; headers?: Record<string, string> },
): Promise<PacedResult> {
  const pool = new Pool(url, { connections: 128 });
  const result: PacedResult = { sent: 0, ok: 0, failures: [], answers: [] };
  const total = Math.round((opts.rps * opts.durationMs) / 1000);
  const start = performance.now();
  const running: Promise<void>[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / opts.rps;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      result.sent++;
      running.push(one(pool, i % 2 === 1, opts, result));
    }
    await Promise.all(running);
  } finally {
    await pool.close();
  }
  return result;
}

async function one(pool: Pool, stream: boolean, opts: { model?: string; headers?: Record<string, string> }, out: PacedResult) {
  const at = Date.now();
  try {
    const res = await pool.request({
      path: "/v1/chat/completions",
      method: "POST",
      headers: { "content-type": "application/json", ...opts.headers },
      body: JSON.stringify({ model: opts.model ?? "demo", stream, messages: [{ role: "user", content: "hi" }] }),
    });
    const body = await res.body.text();
    if (res.statusCode === 200 && complete(body, stream)) {
      out.ok++;
      out.answers.push({ at, target: String(res.headers["x-switchyard-target"] ?? "") });
    } else out.failures.push({ status: res.statusCode, stream, body: body.slice(0, 300) });
  } catch (err) {
    out.failures.push({ status: 0, stream, body: String(err) });
  }
}

function complete(body: string, stream: boolean): boolean {
  if (!stream) {
    try {
      return Array.isArray((JSON.parse(body) as { choices?: unknown }).choices);
    } catch {
      return false;
    }
  }
  return body.trimEnd().endsWith("data: [DONE]") && !body.includes('"error"');
}
